/**
 * super_empty.img (liblp images.cpp WriteToImageFile / ReadFromImageBlob): the 4096-byte geometry block at
 * offset 0 followed directly by one metadata copy (header + tables) — no reserved bytes, no backups, no padding.
 * `fastboot update-super` sends exactly these bytes.
 */

import { SuperFormatError } from './errors.js';
import { LP_GEOMETRY_MAGIC, LP_GEOMETRY_SIZE, MAX_SUPER_EMPTY_SIZE } from './format.js';
import { encodeGeometry, parseGeometry } from './geometry.js';
import { encodeMetadata } from './metadata-encode.js';
import { parseMetadata } from './metadata-parse.js';
import type { SuperMetadata } from './types.js';

/** Does `head` (the first bytes of a file) start like a super_empty.img (geometry magic at offset 0)? */
export function isSuperEmptyImage(head: Uint8Array): boolean {
  if (head.length < 4) return false;
  return new DataView(head.buffer, head.byteOffset, 4).getUint32(0, true) === LP_GEOMETRY_MAGIC;
}

/** Parse a super_empty.img; every checksum and table is validated. */
export function parseSuperEmpty(bytes: Uint8Array): SuperMetadata {
  if (bytes.length < LP_GEOMETRY_SIZE) {
    throw new SuperFormatError(
      'image',
      `super_empty.img is ${bytes.length} bytes, shorter than its ${LP_GEOMETRY_SIZE}-byte geometry block (truncated or not a super_empty.img)`,
    );
  }
  const geometry = parseGeometry(bytes.subarray(0, LP_GEOMETRY_SIZE));
  return parseMetadata(geometry, bytes.subarray(LP_GEOMETRY_SIZE));
}

/** Encode a super_empty.img (geometry block + one metadata copy). */
export function encodeSuperEmpty(metadata: SuperMetadata): Uint8Array {
  const geometry = encodeGeometry(metadata.geometry);
  const blob = encodeMetadata(metadata);
  const out = new Uint8Array(geometry.length + blob.length);
  out.set(geometry, 0);
  out.set(blob, geometry.length);
  return out;
}

/**
 * Read a super_empty.img from a stream (a zip entry, a file stream) and parse it. Refuses, without buffering
 * more, a stream longer than `maxSize` (default MAX_SUPER_EMPTY_SIZE: the geometry block plus the largest
 * metadata copy Flashline accepts) — a super_empty.img is a few KiB, a whole super image is not one.
 */
export async function readSuperEmptyStream(
  source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  maxSize: number = MAX_SUPER_EMPTY_SIZE,
): Promise<SuperMetadata> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of source) {
    total += chunk.length;
    if (total > maxSize) {
      throw new SuperFormatError(
        'image',
        `more than ${maxSize} bytes — too large for a super_empty.img (is this a whole super image? flash it as a partition instead)`,
      );
    }
    chunks.push(Uint8Array.prototype.slice.call(chunk));
  }
  const bytes = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.length;
  }
  return parseSuperEmpty(bytes);
}
