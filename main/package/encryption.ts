/**
 * Package encryption. Each image is encrypted with AES-256-GCM in fixed-size chunks (the image's block
 * size), following the STREAM construction: the nonce is the chunk index plus a "last chunk" flag, so
 * reordered, dropped, repeated or truncated chunks fail authentication. The per-package content key is wrapped
 * for each recipient station key with X25519 + HKDF-SHA256 + AES-256-GCM.
 * AEAD alone only proves the bytes came from someone holding the content key — anyone can encrypt to a
 * station — so the decrypted bytes are still checked against the signed hashes in the manifest.
 */
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { x25519 } from '@noble/curves/ed25519.js';
import { z } from 'zod';
import { FlashlineError } from '../common/errors.js';
import { canonicalJson, parseBoundedJson } from './canonical-json.js';
import { PKG, pkgError } from './codes.js';
import type { StationPrivateKey, StationPublicKey } from './keys.js';

export const TAG_BYTES = 16;
export const CONTENT_CIPHER = 'aes-256-gcm-chunked-v1';
const WRAP_INFO = 'flashline-package-key-wrap-v1';

const b64 = (bytes: number) =>
  z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64')
    .transform((s) => Buffer.from(s, 'base64'))
    .refine((b) => b.byteLength === bytes, `${bytes} bytes in base64`);

export const encryptionHeaderSchema = z.strictObject({
  cipher: z.literal(CONTENT_CIPHER),
  recipients: z
    .array(
      z.strictObject({
        keyId: z.string().regex(/^[0-9a-f]{16}$/),
        ephemeralPublicKey: b64(32),
        /** nonce (12) + encrypted content key (32) + tag (16) */
        wrappedKey: b64(60),
      }),
    )
    .min(1)
    .max(64),
  /** HMAC-SHA256 under the content key over the rest of the header, so no byte of it can be altered. */
  mac: b64(32),
});
export type EncryptionHeader = z.infer<typeof encryptionHeaderSchema> & {
  /** Canonical bytes the MAC covers (the header without `mac`). */
  readonly macInput: string;
};

function headerMac(contentKey: Uint8Array, macInput: string): Buffer {
  const k = hkdfSync('sha256', contentKey, Buffer.alloc(0), 'flashline-encryption-header-mac-v1', 32);
  return createHmac('sha256', Buffer.from(k)).update(macInput).digest();
}

export function parseEncryptionHeader(bytes: Uint8Array): EncryptionHeader {
  const v = parseBoundedJson(bytes, 'Encryption header', { maxBytes: 64 * 1024, maxDepth: 4 });
  const r = encryptionHeaderSchema.safeParse(v);
  if (!r.success) {
    const i = r.error.issues[0];
    throw pkgError(
      PKG.malformed,
      `Encryption header is invalid (${i ? `${i.path.join('.')}: ${i.message}` : ''}).`,
    );
  }
  const { mac: _mac, ...rest } = v as Record<string, unknown>;
  return { ...r.data, macInput: canonicalJson(rest) };
}

function kek(shared: Uint8Array, ephemeral: Uint8Array, recipient: Uint8Array): Buffer {
  return Buffer.from(hkdfSync('sha256', shared, Buffer.concat([ephemeral, recipient]), WRAP_INFO, 32));
}

/** Make a fresh content key and the encryption header that wraps it for every recipient. */
export function wrapContentKey(recipients: readonly StationPublicKey[]): {
  contentKey: Buffer;
  headerJson: string;
} {
  const contentKey = randomBytes(32);
  const entries = recipients.map((r) => {
    const esk = new Uint8Array(randomBytes(32));
    const epk = x25519.getPublicKey(esk);
    const key = kek(x25519.getSharedSecret(esk, r.publicKey), epk, r.publicKey);
    const nonce = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, nonce);
    c.setAAD(Buffer.from(WRAP_INFO));
    const ct = Buffer.concat([c.update(contentKey), c.final()]);
    return {
      keyId: r.keyId,
      ephemeralPublicKey: Buffer.from(epk).toString('base64'),
      wrappedKey: Buffer.concat([nonce, ct, c.getAuthTag()]).toString('base64'),
    };
  });
  const header = { cipher: CONTENT_CIPHER, recipients: entries };
  const mac = headerMac(contentKey, canonicalJson(header)).toString('base64');
  return { contentKey, headerJson: JSON.stringify({ ...header, mac }) };
}

/** Find a recipient entry we hold the key for and unwrap the content key; a clear 29 otherwise. */
export function unwrapContentKey(header: EncryptionHeader, keys: readonly StationPrivateKey[]): Buffer {
  const ours = new Map(keys.map((k) => [k.keyId, k]));
  for (const r of header.recipients) {
    const k = ours.get(r.keyId);
    if (!k) continue;
    try {
      const pk = x25519.getPublicKey(k.privateKey);
      const key = kek(x25519.getSharedSecret(k.privateKey, r.ephemeralPublicKey), r.ephemeralPublicKey, pk);
      const d = createDecipheriv('aes-256-gcm', key, r.wrappedKey.subarray(0, 12));
      d.setAAD(Buffer.from(WRAP_INFO));
      d.setAuthTag(r.wrappedKey.subarray(44, 60));
      const contentKey = Buffer.concat([d.update(r.wrappedKey.subarray(12, 44)), d.final()]);
      if (!timingSafeEqual(headerMac(contentKey, header.macInput), header.mac)) {
        throw pkgError(
          PKG.malformed,
          'The encryption header was altered (its authentication code does not match).',
        );
      }
      return contentKey;
    } catch (err) {
      if (err instanceof FlashlineError) throw err;
      throw pkgError(
        PKG.cannotDecrypt,
        `The package key wrapped for station key ${r.keyId} cannot be unwrapped: the encryption header is damaged.`,
        { keyId: r.keyId },
      );
    }
  }
  const wanted = header.recipients.map((r) => r.keyId).join(', ');
  throw pkgError(
    PKG.cannotDecrypt,
    keys.length === 0
      ? `The package is encrypted (for station key(s) ${wanted}) and no station key is installed. Pass --decryption-key or install the station key.`
      : `The package is encrypted for station key(s) ${wanted}, none of which this station holds (${keys.map((k) => k.keyId).join(', ')}).`,
    { recipients: header.recipients.map((r) => r.keyId) },
  );
}

export function imageKey(contentKey: Uint8Array, partition: string): Buffer {
  return Buffer.from(hkdfSync('sha256', contentKey, Buffer.alloc(0), `flashline-image-v1:${partition}`, 32));
}

export function chunkCount(size: number, chunkSize: number): number {
  return size === 0 ? 1 : Math.ceil(size / chunkSize);
}

export function encryptedSize(size: number, chunkSize: number): number {
  return size + TAG_BYTES * chunkCount(size, chunkSize);
}

function nonce(index: number, last: boolean): Buffer {
  const n = Buffer.alloc(12);
  n.writeBigUInt64BE(BigInt(index), 0);
  n.writeUInt32BE(last ? 1 : 0, 8);
  return n;
}

export function encryptChunk(key: Uint8Array, index: number, last: boolean, plain: Uint8Array): Buffer {
  const c = createCipheriv('aes-256-gcm', key, nonce(index, last));
  return Buffer.concat([c.update(plain), c.final(), c.getAuthTag()]);
}

/** Decrypt one whole chunk (ciphertext + tag); a 28 when it does not authenticate. */
export function decryptChunk(
  key: Uint8Array,
  index: number,
  last: boolean,
  chunk: Uint8Array,
  partition: string,
): Buffer {
  if (chunk.byteLength < TAG_BYTES)
    throw pkgError(PKG.imageMismatch, `Encrypted image ${partition} is truncated.`);
  const d = createDecipheriv('aes-256-gcm', key, nonce(index, last));
  d.setAuthTag(chunk.subarray(chunk.byteLength - TAG_BYTES));
  try {
    return Buffer.concat([d.update(chunk.subarray(0, chunk.byteLength - TAG_BYTES)), d.final()]);
  } catch {
    throw pkgError(
      PKG.imageMismatch,
      `Encrypted image ${partition}: chunk ${index} fails authentication (altered, reordered or truncated).`,
      { partition, chunk: index },
    );
  }
}
