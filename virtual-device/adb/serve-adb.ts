/**
 * The virtual device's adbd: serves ADB (AOSP protocol.txt) on any Duplex (a TCP socket, an in-process pair
 * end). This file is the protocol side only — packets, auth, streams, flow control; what the phone answers
 * comes from the AdbDeviceHandler (device-handler.ts).
 *
 * Auth as a secure adbd does it: every CNXN is answered with AUTH(TOKEN); a SIGNATURE that verifies against
 * an authorized key brings the device online (our CNXN with the banner); otherwise a fresh TOKEN, after
 * which the host offers its key (RSAPUBLICKEY). With `authorizedKeys` undefined every key is accepted
 * (any RSA-2048 signature, or the offered key as if the owner tapped "Allow"); with a list, an unlisted key
 * gets no answer after RSAPUBLICKEY, so the host shows the device as unauthorized.
 * Services: `shell:CMD` (v1: output then CLSE), `shell,v2,…:CMD` (stdout/stderr/exit packets), `reboot:T`;
 * anything else is refused with CLSE, as adbd does for a service it cannot start.
 */
import { randomBytes } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { adbPublicKeyBlob, decodeAndroidPublicKey, verifyAdbToken } from '../../main/protocol/adb/keys.js';
import { encodeShellPacket, parseShellService, SHELL_ID } from '../../main/protocol/adb/shell-v2.js';
import {
  ADB_AUTH,
  ADB_AUTH_TOKEN_LENGTH,
  ADB_MAX_PAYLOAD,
  ADB_MAX_PAYLOAD_V1,
  ADB_VERSION,
  ADB_VERSION_SKIP_CHECKSUM,
  type AdbMessage,
  AdbMessageParser,
  encodeMessage,
  formatBanner,
  payloadText,
} from '../../main/protocol/adb/wire.js';
import type { AdbDeviceHandler, AdbServerOptions, AdbSessionEnd, ShellAnswer } from './device-handler.js';

/** Features this adbd offers in its banner. */
export const ADB_DEVICE_FEATURES = ['shell_v2', 'cmd'] as const;

const empty = new Uint8Array(0);
/** An RSA-2048 signature. */
const RSA_SIGNATURE_LENGTH = 256;
/** Output bytes per shell v2 packet. */
const SHELL_PACKET_DATA = 32 * 1024;
const utf8 = new TextEncoder();

interface OutStream {
  readonly remoteId: number;
  /** Bytes waiting to be sent, already cut to the agreed payload size. */
  readonly queue: Uint8Array[];
  inFlight: boolean;
  /** Send CLSE once the queue is drained; then run `after`. */
  closing: boolean;
  after?: () => void;
}

interface AuthorizedKey {
  readonly blob: Buffer;
  readonly key: ReturnType<typeof decodeAndroidPublicKey>;
}

function parseAuthorizedKeys(lines: readonly string[] | undefined): AuthorizedKey[] | undefined {
  if (lines === undefined) return undefined;
  const keys: AuthorizedKey[] = [];
  for (const line of lines.flatMap((l) => l.split('\n'))) {
    if (!line.trim() || line.trim().startsWith('#')) continue;
    try {
      const blob = Buffer.from(adbPublicKeyBlob(line));
      keys.push({ blob, key: decodeAndroidPublicKey(blob) });
    } catch {
      // adbd skips lines it cannot parse; so do we.
    }
  }
  return keys;
}

export function serveAdb(
  link: Duplex,
  handler: AdbDeviceHandler,
  options: AdbServerOptions,
): Promise<AdbSessionEnd> {
  return new Promise((resolve) => new AdbdSession(link, handler, options, resolve).start());
}

class AdbdSession {
  readonly #parser = new AdbMessageParser(ADB_MAX_PAYLOAD);
  readonly #keys: AuthorizedKey[] | undefined;
  readonly #streams = new Map<number, OutStream>();
  #state: 'offline' | 'auth' | 'online' = 'offline';
  #token: Uint8Array = empty;
  #maxPayload = ADB_MAX_PAYLOAD_V1;
  #nextId = 1;
  #ended = false;

  constructor(
    private readonly link: Duplex,
    private readonly handler: AdbDeviceHandler,
    private readonly options: AdbServerOptions,
    private readonly resolve: (end: AdbSessionEnd) => void,
  ) {
    this.#keys = parseAuthorizedKeys(options.authorizedKeys);
  }

  readonly #onData = (chunk: Buffer) => {
    try {
      for (const msg of this.#parser.push(new Uint8Array(chunk))) this.#handle(msg);
    } catch (err) {
      this.#end({ reason: 'error', message: (err as Error).message });
      this.link.destroy();
    }
  };
  readonly #onClosed = () => this.#end({ reason: 'closed' });
  readonly #onError = () => this.#end({ reason: 'closed' });

  start(): void {
    if (this.options.signal?.aborted || this.link.destroyed) {
      this.#end({ reason: 'closed' });
      return;
    }
    this.options.signal?.addEventListener('abort', this.#onClosed, { once: true });
    this.link.on('data', this.#onData);
    this.link.on('end', this.#onClosed);
    this.link.on('close', this.#onClosed);
    this.link.on('error', this.#onError);
  }

  #end(end: AdbSessionEnd): void {
    if (this.#ended) return;
    this.#ended = true;
    this.options.signal?.removeEventListener('abort', this.#onClosed);
    this.link.off('data', this.#onData);
    this.link.off('end', this.#onClosed);
    this.link.off('close', this.#onClosed);
    // Keep an error listener: a late write error on a vanished peer must not crash the device.
    this.link.off('error', this.#onError);
    this.link.on('error', () => {});
    this.resolve(end);
  }

  #send(msg: AdbMessage): void {
    if (!this.#ended && !this.link.destroyed && this.link.writable) this.link.write(encodeMessage(msg));
  }

  #handle(msg: AdbMessage): void {
    if (msg.command === 'CNXN') {
      this.#onConnect(msg);
      return;
    }
    if (msg.command === 'AUTH') {
      this.#onAuth(msg);
      return;
    }
    // adbd drops stream traffic from a host that has not authenticated.
    if (this.#state !== 'online') return;
    const stream = this.#streams.get(msg.arg1);
    switch (msg.command) {
      case 'OPEN':
        return void this.#onOpen(msg.arg0, payloadText(msg.payload));
      case 'OKAY':
        if (stream) {
          stream.inFlight = false;
          this.#pump(msg.arg1, stream);
        }
        return;
      case 'WRTE':
        // Shell stdin and the like: taken and acknowledged, not used by the simulated commands.
        if (stream) this.#send({ command: 'OKAY', arg0: msg.arg1, arg1: msg.arg0, payload: empty });
        else this.#send({ command: 'CLSE', arg0: 0, arg1: msg.arg0, payload: empty });
        return;
      case 'CLSE':
        this.#streams.delete(msg.arg1);
        // A reboot already accepted goes ahead even if the host hung up first.
        if (stream?.closing) stream.after?.();
        return;
      default:
        return;
    }
  }

  #onConnect(msg: AdbMessage): void {
    this.#maxPayload = Math.max(ADB_MAX_PAYLOAD_V1, Math.min(ADB_MAX_PAYLOAD, msg.arg1));
    this.#parser.verifyChecksum = msg.arg0 < ADB_VERSION_SKIP_CHECKSUM;
    this.#streams.clear();
    this.#state = 'auth';
    this.#sendToken();
  }

  #sendToken(): void {
    this.#token = new Uint8Array(randomBytes(ADB_AUTH_TOKEN_LENGTH));
    this.#send({ command: 'AUTH', arg0: ADB_AUTH.TOKEN, arg1: 0, payload: this.#token });
  }

  #onAuth(msg: AdbMessage): void {
    if (this.#state !== 'auth') return;
    if (msg.arg0 === ADB_AUTH.SIGNATURE) {
      // Any key accepted: a phone on which "Always allow" was ticked for this computer, so `adb connect`
      // succeeds at once (a prompt would race adb's connect check and print "failed to authenticate").
      const ok =
        this.#keys === undefined
          ? msg.payload.byteLength === RSA_SIGNATURE_LENGTH
          : this.#keys.some((k) => verifyAdbToken(k.key, this.#token, msg.payload));
      if (ok) this.#online();
      else this.#sendToken();
    } else if (msg.arg0 === ADB_AUTH.RSAPUBLICKEY) {
      let blob: Buffer;
      try {
        blob = Buffer.from(adbPublicKeyBlob(payloadText(msg.payload)));
      } catch {
        return; // adbd ignores a key it cannot parse
      }
      // The "Allow USB debugging?" dialog: undefined = the owner allows; a list = only those keys.
      if (this.#keys === undefined || this.#keys.some((k) => k.blob.equals(blob))) this.#online();
    }
  }

  #online(): void {
    this.#state = 'online';
    const banner = formatBanner(this.handler.state(), this.handler.bannerProperties(), ADB_DEVICE_FEATURES);
    this.#send({ command: 'CNXN', arg0: ADB_VERSION, arg1: ADB_MAX_PAYLOAD, payload: utf8.encode(banner) });
  }

  async #onOpen(remoteId: number, service: string): Promise<void> {
    if (remoteId === 0) return;
    const shell = parseShellService(service);
    const reboot = /^reboot:(.*)$/.exec(service);
    if ((shell && shell.command.length > 0) || reboot) {
      const localId = this.#nextId++;
      const stream: OutStream = { remoteId, queue: [], inFlight: false, closing: false };
      this.#streams.set(localId, stream);
      this.#send({ command: 'OKAY', arg0: localId, arg1: remoteId, payload: empty });
      if (shell) await this.#runShell(localId, stream, shell.command, shell.v2);
      else await this.#runReboot(localId, stream, reboot![1]!);
      return;
    }
    // Interactive shells, sync, tcpip, … are not simulated: refuse as adbd refuses an unknown service.
    this.#send({ command: 'CLSE', arg0: 0, arg1: remoteId, payload: empty });
  }

  async #runShell(localId: number, stream: OutStream, command: string, v2: boolean): Promise<void> {
    let answer: ShellAnswer;
    try {
      answer = await this.handler.shell(command);
    } catch (err) {
      answer = { stdout: '', stderr: `${(err as Error).message}\n`, exitCode: 1 };
    }
    const stdout = utf8.encode(answer.stdout);
    const stderr = utf8.encode(answer.stderr ?? '');
    if (v2) {
      // adbd forwards output as it reads it, in buffer-sized packets; so do we.
      for (const [id, bytes] of [
        [SHELL_ID.stdout, stdout],
        [SHELL_ID.stderr, stderr],
      ] as const) {
        for (let o = 0; o < bytes.byteLength; o += SHELL_PACKET_DATA) {
          this.#write(localId, stream, encodeShellPacket(id, bytes.subarray(o, o + SHELL_PACKET_DATA)));
        }
      }
      const status = new Uint8Array([answer.exitCode & 0xff]);
      this.#write(localId, stream, encodeShellPacket(SHELL_ID.exit, status));
    } else {
      this.#write(localId, stream, stdout);
      this.#write(localId, stream, stderr);
    }
    this.#closeWhenDrained(localId, stream);
  }

  async #runReboot(localId: number, stream: OutStream, target: string): Promise<void> {
    try {
      await this.handler.reboot(target);
    } catch (err) {
      this.#write(localId, stream, utf8.encode(`reboot failed: ${(err as Error).message}\n`));
      this.#closeWhenDrained(localId, stream);
      return;
    }
    // The device goes down: close the stream, end the session, drop the link once the bytes are out.
    this.#closeWhenDrained(localId, stream, () => {
      this.#end({ reason: 'reboot', target });
      this.link.end(() => this.link.destroy());
    });
  }

  #write(localId: number, stream: OutStream, bytes: Uint8Array): void {
    for (let o = 0; o < bytes.byteLength; o += this.#maxPayload) {
      stream.queue.push(bytes.subarray(o, o + this.#maxPayload));
    }
    this.#pump(localId, stream);
  }

  #closeWhenDrained(localId: number, stream: OutStream, after?: () => void): void {
    stream.closing = true;
    if (after) stream.after = after;
    this.#pump(localId, stream);
  }

  /** Classic flow control: one WRTE in flight per stream until the host's OKAY. */
  #pump(localId: number, stream: OutStream): void {
    if (stream.inFlight) return;
    const next = stream.queue.shift();
    if (next) {
      stream.inFlight = true;
      this.#send({ command: 'WRTE', arg0: localId, arg1: stream.remoteId, payload: next });
      return;
    }
    if (!stream.closing) return;
    this.#streams.delete(localId);
    this.#send({ command: 'CLSE', arg0: localId, arg1: stream.remoteId, payload: empty });
    stream.after?.();
  }
}
