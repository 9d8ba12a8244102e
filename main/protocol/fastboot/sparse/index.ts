/**
 * Android sparse images (libsparse format): decoder, encoder, splitter. Import from this file only.
 *
 * Device side (virtual device applying `flash` of a downloaded image):
 * ```ts
 * if (isSparseHeader(first4)) {
 *   for await (const op of decodeSparse(bytes, { signal, onHeader: (h) => checkFits(h.totalBlocks * h.blockSize) })) {
 *     if (op.kind === 'data') write(op.offset, op.bytes);            // subarray: copy if kept
 *     else if (op.kind === 'fill') fill(op.offset, op.length, op.value); // 4-byte pattern
 *     // 'skip' (DONT_CARE): leave op.length bytes at op.offset untouched
 *   }
 * }
 * ```
 * Errors: every malformed input throws {@link SparseFormatError} (a FlashlineError, code 'bad_sparse_image',
 * detail {inputOffset?, chunk?}) with a message naming what is wrong; nothing out of the declared image range
 * is ever yielded.
 *
 * Host side (sending an image larger than max-download-size, as AOSP fastboot does), two passes over a
 * one-pass stream:
 * ```ts
 * const layout = sparse ? await scanSparseLayout(open()) : await scanRawLayout(open(), { expectedSize })
 *                                                        // or rawLayout(size) to skip the raw scan
 * const plan = planSparsePieces(layout, maxDownloadSize); // plan.pieces[i].size known before any data
 * for await (const piece of emitPieces(plan, open(), { signal })) {
 *   await download(piece.size, piece.stream);            // read each stream fully, in order
 *   await flash(partition);                               // piece.startBlock..endBlock now written
 * }
 * ```
 * A sparse source that fits is passed through unchanged (`plan.passThrough`). A raw image that fits should
 * be sent raw by the caller (as AOSP does); the splitter is for raw images that do not fit.
 * Pieces are packed as libsparse's sparse_file_resparse packs them (chunk-for-chunk equal to `simg2simg`);
 * `minimumDownloadSize(blockSize)` is the smallest limit accepted (RangeError below it).
 * Encoder (one sparse image of a raw one): `encodeSparse(layout, source)` → `{ size, stream }`; with a
 * `scanRawLayout` layout the bytes equal `img2simg`'s.
 * Sources (`ByteSource`) are async iterables (Node Readable, generators) or plain iterables of Uint8Array.
 * See docs/sparse.md.
 *
 * @module
 */

export { ByteReader, type ByteSource } from './byte-reader.js';
export {
  type DecodeOptions,
  type DecodeSummary,
  decodeSparse,
  type SparseChunkInfo,
  type SparseOp,
} from './decoder.js';
export { type EmitOptions, emitPieces, encodeSparse, type SparsePiece } from './emit.js';
export {
  CHUNK_HEADER_SIZE,
  CHUNK_TYPE,
  DEFAULT_SPARSE_BLOCK_SIZE,
  FILE_HEADER_SIZE,
  isSparseHeader,
  parseSparseHeader,
  SPARSE_MAGIC,
  type SparseErrorDetail,
  SparseFormatError,
  type SparseHeader,
} from './format.js';
export {
  type LayoutExtent,
  type RawScanOptions,
  rawLayout,
  type SparseLayout,
  scanRawLayout,
  scanSparseLayout,
} from './layout.js';
export {
  minimumDownloadSize,
  type PlannedChunk,
  type PlanOptions,
  planSparsePieces,
  type SparsePiecePlan,
  type SparsePlan,
} from './plan.js';
