/**
 * The virtual adbd's authorization decisions (what a secure adbd and the phone's "Allow USB debugging?"
 * dialog decide), apart from the packets: a fresh random token per challenge, whether a SIGNATURE is
 * accepted, and whether an offered RSAPUBLICKEY is allowed.
 *
 * `authorizedKeys` undefined: every key is accepted — any RSA-2048 signature (a phone on which "Always
 * allow" was ticked for every computer, so `adb connect` succeeds at once; a prompt would race Google adb's
 * connect check and print "failed to authenticate"), and any offered key (the owner taps "Allow").
 * A list (the `adb_keys` format, one key per line): only signatures that verify against a listed key, and
 * only listed keys when offered; anything else is left unanswered, so the host shows "unauthorized".
 */
import { randomBytes } from 'node:crypto';
import { adbPublicKeyBlob, decodeAndroidPublicKey, verifyAdbToken } from '../../main/protocol/adb/keys.js';
import { ADB_AUTH_TOKEN_LENGTH, payloadText } from '../../main/protocol/adb/wire.js';

/** An RSA-2048 signature. */
const RSA_SIGNATURE_LENGTH = 256;

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

export class AdbdAuth {
  readonly #keys: AuthorizedKey[] | undefined;
  #token: Uint8Array = new Uint8Array(0);

  constructor(authorizedKeys: readonly string[] | undefined) {
    this.#keys = parseAuthorizedKeys(authorizedKeys);
  }

  /** A new challenge; the previous one is no longer valid. */
  newToken(): Uint8Array {
    this.#token = new Uint8Array(randomBytes(ADB_AUTH_TOKEN_LENGTH));
    return this.#token;
  }

  /** AUTH(SIGNATURE): does it sign the current token with an authorized key? */
  acceptsSignature(signature: Uint8Array): boolean {
    if (this.#keys === undefined) return signature.byteLength === RSA_SIGNATURE_LENGTH;
    return this.#keys.some((k) => verifyAdbToken(k.key, this.#token, signature));
  }

  /** AUTH(RSAPUBLICKEY): does the "owner" allow this key? A key that does not parse is ignored, as adbd does. */
  allowsOfferedKey(payload: Uint8Array): boolean {
    let blob: Buffer;
    try {
      blob = Buffer.from(adbPublicKeyBlob(payloadText(payload)));
    } catch {
      return false;
    }
    return this.#keys === undefined || this.#keys.some((k) => k.blob.equals(blob));
  }
}
