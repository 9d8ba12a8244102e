/**
 * The verified bytes of one image, read straight from its known place in the package file: the block list
 * is re-read and checked against the signed manifest, then the data is (decrypted and) released block by
 * block only after each block's hash matches. Memory stays one block whatever the image size.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { PKG, pkgError } from './codes.js';
import { imageKey } from './encryption.js';
import type { ImageLocation } from './image-entries.js';
import { checkBlockList, decryptUnits, units, verifiedBlocks } from './image-stream.js';
import type { ManifestImage } from './manifest.js';

/** One image's verified bytes, block by block; `contentKey` when the package is encrypted. */
export async function* imageBlocks(
  path: string,
  img: ManifestImage,
  loc: ImageLocation,
  contentKey: Buffer | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  if (loc.blocks.offset < 0 || loc.data.offset < 0)
    throw pkgError(PKG.malformed, 'Package entry offsets are unknown.');
  const handle = await fs.open(path, 'r');
  let list: Buffer;
  try {
    list = Buffer.alloc(loc.blocks.size);
    const { bytesRead } = await handle.read(list, 0, loc.blocks.size, loc.blocks.offset);
    if (bytesRead !== loc.blocks.size)
      throw pkgError(PKG.imageMismatch, `Image ${img.partition}: block list is truncated.`);
  } finally {
    await handle.close();
  }
  checkBlockList(img, list);
  if (img.size === 0 && !contentKey) return yield* verifiedBlocks(noBlocks(), img, list);
  const unit = contentKey ? img.blockSize + 16 : img.blockSize;
  const raw = createReadStream(path, {
    start: loc.data.offset,
    end: loc.data.offset + loc.data.size - 1,
    highWaterMark: Math.max(unit, 1024 * 1024),
    ...(signal ? { signal } : {}),
  });
  const source = (async function* () {
    let got = 0;
    for await (const c of raw as AsyncIterable<Buffer>) {
      got += c.byteLength;
      yield c;
    }
    if (got !== loc.data.size)
      throw pkgError(PKG.imageMismatch, `Image ${img.partition} is truncated in the package file.`);
  })();
  const blocks = contentKey
    ? decryptUnits(source, img, imageKey(contentKey, img.partition))
    : units(source, img.blockSize);
  yield* verifiedBlocks(blocks, img, list);
}

async function* noBlocks(): AsyncGenerator<Buffer> {}
