/**
 * Images are sent in pieces no larger than the device's download buffer, so a cable pull costs one piece,
 * not the image: the journal records each piece once the device has written it, and a resumed job starts
 * at the next one. An image that fits in one piece is sent raw, exactly as `fastboot flash` does; a larger
 * one is sent as Android sparse pieces (AOSP libsparse sparse_format.h), each covering its byte range with
 * RAW data and the rest of the partition as DONT_CARE, so every piece is a complete, valid sparse image on
 * its own. Hand-written because a piece at an arbitrary offset is three chunk headers; the general sparse
 * codec (re-splitting arbitrary sparse input) lives in main/protocol/fastboot.
 */
export const SPARSE_BLOCK = 4096;
const SPARSE_MAGIC = 0xed26ff3a;
const FILE_HEADER = 28;
const CHUNK_HEADER = 12;
const CHUNK_RAW = 0xcac1;
const CHUNK_DONT_CARE = 0xcac3;
/** Header room a sparse piece needs on top of its data: file header + up to three chunk headers. */
export const SPARSE_OVERHEAD = FILE_HEADER + 3 * CHUNK_HEADER;

export interface Piece {
  readonly index: number;
  readonly offset: number;
  readonly length: number;
  /** Bytes on the wire (sparse headers and padding included). */
  readonly wireSize: number;
  readonly sparse: boolean;
}

/** Largest block-aligned piece that fits `maxDownload` with sparse headers, capped by `preferred`. */
export function pieceSizeFor(maxDownload: number, preferred: number): number {
  const limit = Math.min(maxDownload - SPARSE_OVERHEAD, preferred);
  return Math.floor(limit / SPARSE_BLOCK) * SPARSE_BLOCK;
}

export function planPieces(imageSize: number, pieceSize: number, maxDownload: number): Piece[] {
  if (imageSize <= maxDownload && imageSize <= pieceSize) {
    return [{ index: 0, offset: 0, length: imageSize, wireSize: imageSize, sparse: false }];
  }
  const pieces: Piece[] = [];
  for (let offset = 0, index = 0; offset < imageSize; offset += pieceSize, index++) {
    const length = Math.min(pieceSize, imageSize - offset);
    pieces.push({
      index,
      offset,
      length,
      wireSize: sparseHeader(imageSize, offset, length).wireSize,
      sparse: true,
    });
  }
  return pieces;
}

/** The sparse header and chunk headers around one piece; `trailer` follows the (padded) data. */
export function sparseHeader(
  imageSize: number,
  offset: number,
  length: number,
): { head: Uint8Array; padding: number; trailer: Uint8Array; wireSize: number } {
  const totalBlocks = Math.ceil(imageSize / SPARSE_BLOCK);
  const skipBlocks = offset / SPARSE_BLOCK;
  const rawBlocks = Math.ceil(length / SPARSE_BLOCK);
  const restBlocks = totalBlocks - skipBlocks - rawBlocks;
  const chunks = 1 + (skipBlocks > 0 ? 1 : 0) + (restBlocks > 0 ? 1 : 0);
  const head = new Uint8Array(FILE_HEADER + (skipBlocks > 0 ? CHUNK_HEADER : 0) + CHUNK_HEADER);
  const v = new DataView(head.buffer);
  v.setUint32(0, SPARSE_MAGIC, true);
  v.setUint16(4, 1, true);
  v.setUint16(6, 0, true);
  v.setUint16(8, FILE_HEADER, true);
  v.setUint16(10, CHUNK_HEADER, true);
  v.setUint32(12, SPARSE_BLOCK, true);
  v.setUint32(16, totalBlocks, true);
  v.setUint32(20, chunks, true);
  v.setUint32(24, 0, true);
  let at = FILE_HEADER;
  if (skipBlocks > 0) {
    writeChunk(v, at, CHUNK_DONT_CARE, skipBlocks, CHUNK_HEADER);
    at += CHUNK_HEADER;
  }
  writeChunk(v, at, CHUNK_RAW, rawBlocks, CHUNK_HEADER + rawBlocks * SPARSE_BLOCK);
  const trailer = new Uint8Array(restBlocks > 0 ? CHUNK_HEADER : 0);
  if (restBlocks > 0) writeChunk(new DataView(trailer.buffer), 0, CHUNK_DONT_CARE, restBlocks, CHUNK_HEADER);
  const padding = rawBlocks * SPARSE_BLOCK - length;
  return { head, padding, trailer, wireSize: head.byteLength + length + padding + trailer.byteLength };
}

function writeChunk(v: DataView, at: number, type: number, blocks: number, totalSize: number): void {
  v.setUint16(at, type, true);
  v.setUint16(at + 2, 0, true);
  v.setUint32(at + 4, blocks, true);
  v.setUint32(at + 8, totalSize, true);
}

/** The wire bytes of one piece, pulling exactly `piece.length` image bytes from `cursor`. */
export async function* pieceBytes(
  cursor: ByteCursor,
  piece: Piece,
  imageSize: number,
): AsyncGenerator<Uint8Array> {
  if (!piece.sparse) {
    yield* cursor.take(piece.length);
    return;
  }
  const { head, padding, trailer } = sparseHeader(imageSize, piece.offset, piece.length);
  yield head;
  yield* cursor.take(piece.length);
  if (padding > 0) yield new Uint8Array(padding);
  if (trailer.byteLength > 0) yield trailer;
}

/** Reads exact byte counts from a chunked stream without copying whole chunks. */
export class ByteCursor {
  readonly #it: AsyncIterator<Uint8Array>;
  #pending: Uint8Array | undefined;
  constructor(source: AsyncIterable<Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #next(): Promise<Uint8Array> {
    if (this.#pending && this.#pending.byteLength > 0) {
      const p = this.#pending;
      this.#pending = undefined;
      return p;
    }
    const r = await this.#it.next();
    if (r.done) throw new Error('image stream ended before its declared size');
    return r.value;
  }

  async *take(n: number): AsyncGenerator<Uint8Array> {
    let left = n;
    while (left > 0) {
      const chunk = await this.#next();
      if (chunk.byteLength > left) {
        this.#pending = chunk.subarray(left);
        yield chunk.subarray(0, left);
        return;
      }
      left -= chunk.byteLength;
      yield chunk;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.take(n)) {
      // discard: the bytes still flow through the package's hash check
    }
  }

  /** Drain the rest so the source can finish its own checks (hash, exact size). */
  async finish(): Promise<void> {
    if (this.#pending && this.#pending.byteLength > 0)
      throw new Error('image stream is longer than its declared size');
    const r = await this.#it.next();
    if (!r.done) {
      await this.#it.return?.();
      throw new Error('image stream is longer than its declared size');
    }
  }

  async close(): Promise<void> {
    await this.#it.return?.();
  }
}
