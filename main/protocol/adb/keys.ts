/**
 * ADB's RSA key formats and the AUTH signature, shared by the host and the virtual device.
 *
 * Public key (`adbkey.pub`, the device's `adb_keys` lines): base64 of a 524-byte little-endian struct
 * { u32 len = 64 (words of the modulus); u32 n0inv = -1/n[0] mod 2^32; u32 n[64]; u32 rr[64] = 2^4096 mod n;
 * u32 exponent } then a space and `user@host` (AOSP libcrypto_utils android_pubkey.cpp, adb_auth_host.cpp).
 * Signature: the device's 20-byte token is treated as an already computed SHA-1 digest and signed with
 * PKCS#1 v1.5, i.e. RSA over the SHA-1 DigestInfo prefix + token (OpenSSL RSA_sign(NID_sha1, …)).
 * Fingerprint: MD5 of the decoded struct, upper-case hex pairs joined by ':' (what the phone's
 * "Allow USB debugging?" dialog shows, frameworks AdbDebuggingManager.getFingerprints).
 */
import {
  constants,
  createHash,
  createPublicKey,
  type KeyObject,
  privateEncrypt,
  publicDecrypt,
} from 'node:crypto';

const MODULUS_WORDS = 64;
const MODULUS_BYTES = MODULUS_WORDS * 4;
export const ANDROID_PUBKEY_LENGTH = 4 + 4 + MODULUS_BYTES + MODULUS_BYTES + 4;
/** DER prefix of a SHA-1 DigestInfo (RFC 8017 §9.2 note 1). */
const SHA1_DIGEST_INFO = Buffer.from('3021300906052b0e03021a05000414', 'hex');

export class AdbKeyFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AdbKeyFormatError';
  }
}

function bigFromBytes(be: Uint8Array): bigint {
  return be.byteLength === 0 ? 0n : BigInt(`0x${Buffer.from(be).toString('hex')}`);
}

function writeWordsLE(out: DataView, offset: number, value: bigint): void {
  let v = value;
  for (let i = 0; i < MODULUS_WORDS; i++) {
    out.setUint32(offset + i * 4, Number(v & 0xffffffffn), true);
    v >>= 32n;
  }
}

function readWordsLE(view: DataView, offset: number): bigint {
  let v = 0n;
  for (let i = MODULUS_WORDS - 1; i >= 0; i--) v = (v << 32n) | BigInt(view.getUint32(offset + i * 4, true));
  return v;
}

/** Modular inverse of odd `a` modulo 2^32 (Newton iteration). */
function inverseMod32(a: number): number {
  let x = a;
  for (let i = 0; i < 5; i++) x = Math.imul(x, 2 - Math.imul(a, x)) >>> 0;
  return x >>> 0;
}

/** The 524-byte struct for an RSA-2048 public key. @throws AdbKeyFormatError for other key sizes */
export function encodeAndroidPublicKey(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  if (jwk.kty !== 'RSA' || !jwk.n || !jwk.e) throw new AdbKeyFormatError('an ADB key must be an RSA key');
  const nBytes = Buffer.from(jwk.n, 'base64url');
  const n = bigFromBytes(nBytes);
  const e = Number(bigFromBytes(Buffer.from(jwk.e, 'base64url')));
  if (n >> 2047n !== 1n) throw new AdbKeyFormatError('an ADB key must be a 2048-bit RSA key');
  const out = new Uint8Array(ANDROID_PUBKEY_LENGTH);
  const view = new DataView(out.buffer);
  view.setUint32(0, MODULUS_WORDS, true);
  const n0 = Number(n & 0xffffffffn);
  view.setUint32(4, (0x100000000 - inverseMod32(n0)) >>> 0, true);
  writeWordsLE(view, 8, n);
  writeWordsLE(view, 8 + MODULUS_BYTES, (1n << 4096n) % n);
  view.setUint32(8 + 2 * MODULUS_BYTES, e, true);
  return out;
}

/** The struct back to a public key; checks its length and word count. @throws AdbKeyFormatError */
export function decodeAndroidPublicKey(blob: Uint8Array): KeyObject {
  if (blob.byteLength !== ANDROID_PUBKEY_LENGTH) {
    throw new AdbKeyFormatError(
      `an ADB public key is ${ANDROID_PUBKEY_LENGTH} bytes, got ${blob.byteLength}`,
    );
  }
  const view = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  if (view.getUint32(0, true) !== MODULUS_WORDS) {
    throw new AdbKeyFormatError('the ADB public key does not hold a 2048-bit modulus');
  }
  const n = readWordsLE(view, 8);
  const e = view.getUint32(8 + 2 * MODULUS_BYTES, true);
  const toB64 = (v: bigint) => {
    const hex = v.toString(16);
    return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
  };
  return createPublicKey({ key: { kty: 'RSA', n: toB64(n), e: toB64(BigInt(e)) }, format: 'jwk' });
}

/** `adbkey.pub` text: base64 struct + ' ' + comment (usually user@host). */
export function formatAdbPublicKey(key: KeyObject, comment: string): string {
  return `${Buffer.from(encodeAndroidPublicKey(key)).toString('base64')} ${comment}`;
}

/** The struct from one `adbkey.pub` / `adb_keys` line (comment ignored). @throws AdbKeyFormatError */
export function adbPublicKeyBlob(line: string): Uint8Array {
  const b64 = line.trim().split(/\s+/)[0] ?? '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64)) throw new AdbKeyFormatError('not an ADB public key line');
  const blob = Buffer.from(b64, 'base64');
  decodeAndroidPublicKey(blob);
  return new Uint8Array(blob);
}

/** MD5 fingerprint as the phone shows it (`AB:CD:…`). @throws AdbKeyFormatError */
export function adbKeyFingerprint(publicKeyLine: string): string {
  const digest = createHash('md5').update(adbPublicKeyBlob(publicKeyLine)).digest('hex').toUpperCase();
  return digest.match(/../g)!.join(':');
}

/** Sign a device token (see the file comment). */
export function signAdbToken(privateKey: KeyObject, token: Uint8Array): Uint8Array {
  return new Uint8Array(
    privateEncrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.concat([SHA1_DIGEST_INFO, token]),
    ),
  );
}

/** Does `signature` sign `token` with `publicKey`? Never throws on garbage. */
export function verifyAdbToken(publicKey: KeyObject, token: Uint8Array, signature: Uint8Array): boolean {
  try {
    const recovered = publicDecrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_PADDING },
      Buffer.from(signature),
    );
    return recovered.equals(Buffer.concat([SHA1_DIGEST_INFO, token]));
  } catch {
    return false;
  }
}
