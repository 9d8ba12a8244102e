/**
 * Stored image bytes as blocks: re-cutting a stream into units, decrypting AEAD chunks, and checking a
 * block hash list against the manifest. Releasing only verified bytes is verified-batches.ts's job.
 */
import { createHash } from 'node:crypto';
import { PKG, pkgError } from './codes.js';
import { decryptChunk, TAG_BYTES } from './encryption.js';
import type { ManifestImage } from './manifest.js';

/** Re-cut a byte stream into units of exactly `unit` bytes (the last may be shorter). */
export async function* units(source: AsyncIterable<Buffer>, unit: number): AsyncGenerator<Buffer> {
  let buf: Buffer | undefined;
  let fill = 0;
  for await (const chunk of source) {
    let pos = 0;
    while (pos < chunk.byteLength) {
      if (fill === 0 && chunk.byteLength - pos >= unit) {
        // Already a whole unit: pass the slice on without copying.
        yield chunk.subarray(pos, pos + unit);
        pos += unit;
        continue;
      }
      buf ??= Buffer.allocUnsafe(unit);
      const n = Math.min(unit - fill, chunk.byteLength - pos);
      chunk.copy(buf, fill, pos, pos + n);
      fill += n;
      pos += n;
      if (fill === unit) {
        yield buf;
        buf = undefined;
        fill = 0;
      }
    }
  }
  if (buf && fill > 0) yield buf.subarray(0, fill);
}

/** Decrypt a stream of AEAD chunks (each `blockSize + 16` bytes) into plaintext blocks. */
export async function* decryptUnits(
  source: AsyncIterable<Buffer>,
  img: ManifestImage,
  key: Uint8Array,
): AsyncGenerator<Buffer> {
  const total = img.size === 0 ? 1 : Math.ceil(img.size / img.blockSize);
  let index = 0;
  for await (const chunk of units(source, img.blockSize + TAG_BYTES)) {
    if (index >= total)
      throw pkgError(PKG.imageMismatch, `Encrypted image ${img.partition} has extra chunks.`);
    const plain = decryptChunk(key, index, index === total - 1, chunk, img.partition);
    if (plain.byteLength > 0) yield plain;
    index++;
  }
  if (index !== total) {
    throw pkgError(
      PKG.imageMismatch,
      `Encrypted image ${img.partition} is truncated (${index} of ${total} chunks).`,
    );
  }
}

/** A refusal (28) naming the image and what about it differs from the signed manifest. */
export const mismatch = (img: ManifestImage, what: string, detail: Record<string, unknown>) =>
  pkgError(PKG.imageMismatch, `Image ${img.partition} ${what}; it does not match the signed manifest.`, {
    partition: img.partition,
    ...detail,
  });

/** Check a block hash list against the manifest and return it. */
export function checkBlockList(img: ManifestImage, list: Buffer): Buffer {
  const expected = Math.ceil(img.size / img.blockSize) * 32;
  if (list.byteLength !== expected) {
    throw mismatch(img, `block list is ${list.byteLength} bytes instead of ${expected}`, {});
  }
  if (createHash('sha256').update(list).digest('hex') !== img.blocksSha256) {
    throw mismatch(img, 'block list hash is wrong', {});
  }
  return list;
}
