/**
 * The verified bytes of one image, read straight from its known place in the package file: the block list
 * is re-read and checked against the signed manifest, then the data is (decrypted and) released in
 * batches of whole blocks, in order, each only after every block's hash matches — hashed across the
 * worker pool (verified-batches.ts). Memory stays a few batches whatever the image size.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { PKG, pkgError } from './codes.js';
import { imageKey } from './encryption.js';
import type { ImageLocation } from './image-entries.js';
import { checkBlockList, decryptUnits } from './image-stream.js';
import type { ManifestImage } from './manifest.js';
import { fileBatches, streamBatches, verifiedBatches } from './verified-batches.js';

/** One image's verified bytes, in buffers of their own; `contentKey` when the package is encrypted. */
export async function* imageBlocks(
  path: string,
  img: ManifestImage,
  loc: ImageLocation,
  contentKey: Buffer | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  // Each batch is a view of a slot the next batch reuses: the consumer gets a copy of its own.
  for await (const batch of imageBatches(path, img, loc, contentKey, signal)) yield Buffer.from(batch);
}

/**
 * One image's verified bytes as views of the verifier's slots, each valid only until the next is asked
 * for (verifyPackage reads them to nowhere without a copy).
 */
export async function* imageBatches(
  path: string,
  img: ManifestImage,
  loc: ImageLocation,
  contentKey: Buffer | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  const list = await readBlockList(path, img, loc);
  const what = `Image ${img.partition}`;
  const source = contentKey
    ? streamBatches(
        decryptUnits(encryptedChunks(path, loc, what, signal), img, imageKey(contentKey, img.partition)),
      )
    : fileBatches(path, loc.data.offset, img.size);
  yield* verifiedBatches(source, img, list, { signal });
}

/** The stored AEAD chunks of an encrypted image, exactly as long as the package says. */
async function* encryptedChunks(
  path: string,
  loc: ImageLocation,
  what: string,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  if (loc.data.size === 0) return;
  const raw = createReadStream(path, {
    start: loc.data.offset,
    end: loc.data.offset + loc.data.size - 1,
    highWaterMark: 1024 * 1024,
    ...(signal ? { signal } : {}),
  });
  let got = 0;
  for await (const c of raw as AsyncIterable<Buffer>) {
    got += c.byteLength;
    yield c;
  }
  if (got !== loc.data.size) throw pkgError(PKG.imageMismatch, `${what} is truncated in the package file.`);
}

/** The image's block hash list, read from its place in the file and checked against the manifest. */
export async function readBlockList(path: string, img: ManifestImage, loc: ImageLocation): Promise<Buffer> {
  if (loc.blocks.offset < 0 || loc.data.offset < 0)
    throw pkgError(PKG.malformed, 'Package entry offsets are unknown.');
  const handle = await fs.open(path, 'r');
  try {
    const list = Buffer.alloc(loc.blocks.size);
    const { bytesRead } = await handle.read(list, 0, loc.blocks.size, loc.blocks.offset);
    if (bytesRead !== loc.blocks.size)
      throw pkgError(PKG.imageMismatch, `Image ${img.partition}: block list is truncated.`);
    return checkBlockList(img, list);
  } finally {
    await handle.close();
  }
}
