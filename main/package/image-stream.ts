/**
 * Turning stored image bytes into verified bytes. Bytes are released one block at a time and only after
 * the block's SHA-256 matches the signed block list; the last block is held back until the whole-image
 * SHA-256 and exact size are confirmed, so a consumer never acts on a byte that is not known good.
 * Memory: two blocks at most, whatever the image size.
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

const mismatch = (img: ManifestImage, what: string, detail: Record<string, unknown>) =>
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

/**
 * Yield plaintext blocks only once verified. `blocks` must yield exactly `blockSize`-byte blocks (the last
 * may be shorter), as units()/decryptUnits() do.
 */
export async function* verifiedBlocks(
  blocks: AsyncIterable<Buffer>,
  img: ManifestImage,
  blockList: Buffer,
): AsyncGenerator<Buffer> {
  const whole = createHash('sha256');
  let held: Buffer | undefined;
  let index = 0;
  let done = 0;
  for await (const block of blocks) {
    done += block.byteLength;
    if (done > img.size) throw mismatch(img, `has more than ${img.size} bytes`, { size: img.size });
    const want = blockList.subarray(index * 32, index * 32 + 32);
    const got = createHash('sha256').update(block).digest();
    if (!got.equals(want))
      throw mismatch(img, `block ${index} (offset ${index * img.blockSize}) is wrong`, { block: index });
    whole.update(block);
    if (held) yield held;
    held = block;
    index++;
  }
  if (done !== img.size)
    throw mismatch(img, `is ${done} bytes instead of ${img.size}`, { size: img.size, got: done });
  const digest = whole.digest('hex');
  if (digest !== img.sha256) throw mismatch(img, 'SHA-256 is wrong', { expected: img.sha256, got: digest });
  if (held) yield held;
}

/** Hash a whole image as it flows (verify to nowhere): exact size and SHA-256. */
export async function hashImage(source: AsyncIterable<Buffer>, img: ManifestImage): Promise<void> {
  const whole = createHash('sha256');
  let done = 0;
  for await (const chunk of source) {
    done += chunk.byteLength;
    if (done > img.size) throw mismatch(img, `has more than ${img.size} bytes`, { size: img.size });
    whole.update(chunk);
  }
  if (done !== img.size)
    throw mismatch(img, `is ${done} bytes instead of ${img.size}`, { size: img.size, got: done });
  const digest = whole.digest('hex');
  if (digest !== img.sha256) throw mismatch(img, 'SHA-256 is wrong', { expected: img.sha256, got: digest });
}
