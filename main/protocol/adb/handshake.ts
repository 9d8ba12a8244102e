/**
 * The host side of ADB's connection handshake (protocol.txt "CONNECT" and "AUTH"): send CNXN; a device
 * that wants authentication answers AUTH(TOKEN); we sign the token with our key; a device that does not
 * know the key sends another TOKEN, and we offer our public key (RSAPUBLICKEY), which makes the phone ask
 * its owner "Allow USB debugging?". The device's CNXN ends the handshake. The owner's decision is waited
 * for up to `authWaitMs`; then the unauthorized state is reported with its remedy.
 */
import { TimeoutError } from '../../transport/index.js';
import { type AdbBanner, AdbProtocolError, AdbUnauthorizedError } from './contract.js';
import type { AdbKeyPair } from './key-store.js';
import { signAdbToken } from './keys.js';
import type { AdbMessageLink } from './message-link.js';
import {
  ADB_AUTH,
  ADB_AUTH_TOKEN_LENGTH,
  ADB_MAX_PAYLOAD,
  ADB_MAX_PAYLOAD_V1,
  ADB_VERSION,
  ADB_VERSION_MIN,
  ADB_VERSION_SKIP_CHECKSUM,
  cString,
  parseBanner,
  payloadText,
} from './wire.js';

/** Features this host understands; a device lists its own, and we use those both know. */
export const ADB_HOST_FEATURES = ['shell_v2', 'cmd'] as const;

export interface AdbHandshakeOptions {
  readonly signal?: AbortSignal;
  /** Until the device answers at all (CNXN or AUTH). Default 10 s. */
  readonly timeoutMs?: number;
  /** How long the phone's owner has to tap "Allow" once our public key was offered. Default 30 s. */
  readonly authWaitMs?: number;
}

export interface AdbSessionParameters {
  readonly banner: AdbBanner;
  readonly version: number;
  readonly maxPayload: number;
}

export async function adbHandshake(
  link: AdbMessageLink,
  key: AdbKeyPair,
  opts: AdbHandshakeOptions = {},
): Promise<AdbSessionParameters> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const authWaitMs = opts.authWaitMs ?? 30_000;
  const io = opts.signal ? { signal: opts.signal } : {};
  await link.send(
    {
      command: 'CNXN',
      arg0: ADB_VERSION,
      arg1: ADB_MAX_PAYLOAD,
      payload: cString(`host::features=${ADB_HOST_FEATURES.join(',')}`),
    },
    { ...io, timeoutMs },
  );
  let deadline = Date.now() + timeoutMs;
  let signed = false;
  let offeredKey = false;
  for (;;) {
    const waitMs = Math.max(1, deadline - Date.now());
    const msg = await link.receive({ ...io, timeoutMs: waitMs }).catch((err: unknown) => {
      if (!(err instanceof TimeoutError)) throw err;
      if (offeredKey) throw new AdbUnauthorizedError(link.description, key.fingerprint);
      throw new TimeoutError(`waiting for ${link.description} to answer the ADB handshake`, timeoutMs);
    });
    if (msg.command === 'CNXN') {
      if (msg.arg0 < ADB_VERSION_MIN || msg.arg1 === 0) {
        throw new AdbProtocolError(
          `${link.description} answered CNXN with version 0x${msg.arg0.toString(16)} and max payload ${msg.arg1}`,
        );
      }
      const version = Math.min(ADB_VERSION, msg.arg0);
      const maxPayload = Math.max(ADB_MAX_PAYLOAD_V1, Math.min(ADB_MAX_PAYLOAD, msg.arg1));
      link.configure(maxPayload, version < ADB_VERSION_SKIP_CHECKSUM);
      const parsed = parseBanner(payloadText(msg.payload));
      return { banner: parsed, version, maxPayload };
    }
    if (msg.command === 'STLS') {
      throw new AdbProtocolError(
        `${link.description} requires TLS (Android 11+ wireless debugging with pairing), which Flashline does not support; connect the phone by USB or enable ADB over TCP (adb tcpip) instead`,
      );
    }
    if (msg.command !== 'AUTH' || msg.arg0 !== ADB_AUTH.TOKEN) {
      throw new AdbProtocolError(`${link.description} sent ${msg.command} during the ADB handshake`);
    }
    if (msg.payload.byteLength !== ADB_AUTH_TOKEN_LENGTH) {
      throw new AdbProtocolError(
        `${link.description} sent a ${msg.payload.byteLength}-byte AUTH token (expected ${ADB_AUTH_TOKEN_LENGTH})`,
      );
    }
    if (!signed) {
      signed = true;
      const signature = signAdbToken(key.privateKey, msg.payload);
      await link.send({ command: 'AUTH', arg0: ADB_AUTH.SIGNATURE, arg1: 0, payload: signature }, io);
    } else if (!offeredKey) {
      // The device does not know our key: offer it and give the owner time to tap "Allow".
      offeredKey = true;
      await link.send(
        { command: 'AUTH', arg0: ADB_AUTH.RSAPUBLICKEY, arg1: 0, payload: cString(key.publicKey) },
        io,
      );
      deadline = Date.now() + authWaitMs;
    }
    // Further tokens: the dialog is still open (or was dismissed); keep waiting until authWaitMs.
  }
}
