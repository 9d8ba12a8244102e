/**
 * Where every byte after a package's head lies, from its signed manifest alone: the `.flp` container is laid
 * out exactly as the packer writes it (container.ts: each 512-byte tar header right after the previous
 * entry's zero padding, then 1024 zero bytes), so the block lists and image data of the rest of the file sit
 * at offsets the manifest fixes. The agent streams the file through these segments; a file whose signed
 * length differs from this layout is refused before a byte reaches a slot. Tar header bytes are not
 * interpreted (the device acts on no name or size in them); they are covered by the file's TUF hash.
 */
import { PKG, pkgError } from '../../main/package/codes.js';
import { encryptedSize } from '../../main/package/encryption.js';
import type { ManifestImage } from '../../main/package/manifest.js';

const BLOCK = 512;
const END_OF_ARCHIVE = 1024;

export type Segment =
  | { readonly kind: 'header'; readonly start: number; readonly end: number }
  | { readonly kind: 'zeros'; readonly start: number; readonly end: number }
  | { readonly kind: 'list'; readonly start: number; readonly end: number; readonly image: number }
  | { readonly kind: 'image'; readonly start: number; readonly end: number; readonly image: number };

const padded = (n: number) => Math.ceil(n / BLOCK) * BLOCK;

/** The segments from `headEnd` (the first block list's tar header) to the end of the file. */
export function packageSegments(
  images: readonly ManifestImage[],
  encrypted: boolean,
  headEnd: number,
  length: number,
): Segment[] {
  const segments: Segment[] = [];
  let pos = headEnd;
  const entry = (kind: 'list' | 'image', size: number, image: number) => {
    segments.push({ kind: 'header', start: pos, end: pos + BLOCK });
    pos += BLOCK;
    if (size > 0) segments.push({ kind, start: pos, end: pos + size, image });
    if (padded(size) > size) segments.push({ kind: 'zeros', start: pos + size, end: pos + padded(size) });
    pos += padded(size);
  };
  for (const [i, img] of images.entries()) {
    entry('list', Math.ceil(img.size / img.blockSize) * 32, i);
    entry('image', encrypted ? encryptedSize(img.size, img.blockSize) : img.size, i);
  }
  segments.push({ kind: 'zeros', start: pos, end: pos + END_OF_ARCHIVE });
  pos += END_OF_ARCHIVE;
  if (pos !== length) {
    throw pkgError(
      PKG.imageMismatch,
      `The package file is ${length} bytes but its signed manifest lays out ${pos}; it was altered or is not a Flashline package. Nothing was written to a slot.`,
      { length, expected: pos },
    );
  }
  return segments;
}
