/**
 * The image entries that follow the head: each image's block list and data, in manifest order, with the
 * exact sizes the signed manifest allows. The structure walk checks names, order, sizes and block-list
 * hashes and records where each image lies in the file; image bytes are verified later, as they are read
 * (stored-image.ts).
 */
import { createHash } from 'node:crypto';
import { PKG, pkgError } from './codes.js';
import { type ContainerEntry, type ContainerReader, checkEntry, checkLayout, ENTRY } from './container.js';
import { encryptedSize } from './encryption.js';
import type { PackageHead } from './head.js';
import type { ManifestImage } from './manifest.js';

/** Expected stored sizes of an image's two entries; a mismatch is refused before reading a byte. */
export function checkImageEntry(
  img: ManifestImage,
  entry: ContainerEntry,
  kind: 'blocks' | 'image',
  encrypted: boolean,
): void {
  const want =
    kind === 'blocks'
      ? Math.ceil(img.size / img.blockSize) * 32
      : encrypted
        ? encryptedSize(img.size, img.blockSize)
        : img.size;
  if (entry.size !== want) {
    throw pkgError(
      PKG.imageMismatch,
      `Image ${img.partition}: ${kind === 'blocks' ? 'block list' : 'data'} is ${entry.size} bytes in the package, the signed manifest allows exactly ${want}.`,
      {
        partition: img.partition,
        stored: entry.size,
        expected: want,
      },
    );
  }
}

export interface ImageLocation {
  readonly blocks: { offset: number; size: number };
  readonly data: { offset: number; size: number };
}

/**
 * Walk every entry after the head once (reading headers and block lists, skipping image data) so a stray
 * entry anywhere is refused up front; returns where each image's two entries lie in the file.
 */
export async function scanImages(
  reader: ContainerReader,
  path: string,
  head: PackageHead,
): Promise<Map<string, ImageLocation>> {
  const where = new Map<string, ImageLocation>();
  const seen = new Set<string>([
    ENTRY.manifest,
    ENTRY.signatures,
    ...(head.encryption ? [ENTRY.encryption] : []),
  ]);
  const all = [...head.entries];
  let entry = head.next;
  for (const img of head.manifest.images) {
    const blocks = await expectEntry(entry, ENTRY.blocks(img.partition), seen);
    all.push(blocks);
    checkImageEntry(img, blocks, 'blocks', head.encryption !== undefined);
    // The signed list hash is checked now (streamed, so the list is never held here) and again by openImage.
    const listHash = createHash('sha256');
    await reader.drain(blocks, (c) => listHash.update(c));
    if (listHash.digest('hex') !== img.blocksSha256) {
      throw pkgError(
        PKG.imageMismatch,
        `Image ${img.partition}: block list hash is wrong; it does not match the signed manifest.`,
        {
          partition: img.partition,
        },
      );
    }
    const data = await expectEntry(await reader.next(), ENTRY.image(img.partition), seen);
    all.push(data);
    checkImageEntry(img, data, 'image', head.encryption !== undefined);
    await reader.skip(data); // its bytes are verified where they are read (openImage)
    where.set(img.partition, {
      blocks: { offset: blocks.offset, size: blocks.size },
      data: { offset: data.offset, size: data.size },
    });
    entry = await reader.next();
  }
  if (entry) checkEntry(entry.stream.header, undefined, seen);
  await checkLayout(path, all);
  return where;
}

async function expectEntry(
  entry: ContainerEntry | undefined,
  name: string,
  seen: Set<string>,
): Promise<ContainerEntry> {
  if (!entry) throw pkgError(PKG.malformed, `Package ends early: entry ${name} is missing.`);
  checkEntry(entry.stream.header, name, seen);
  return entry;
}
