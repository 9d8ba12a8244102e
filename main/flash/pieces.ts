/**
 * Images are sent in pieces no larger than the device's download buffer, so a cable pull costs one piece,
 * not the image: the journal records each piece once the device has written it, and a resumed job starts
 * at the next one. Planning and emitting are the shared sparse codec's (main/protocol/fastboot/sparse,
 * libsparse's sparse_file_resparse semantics); this file only decides which of its inputs to use:
 * - an image that fits one piece is sent as it is (raw, or a sparse image passed through), as `fastboot
 *   flash` does;
 * - a larger raw image is planned from `rawLayout(size)` (no extra read pass);
 * - a larger sparse image is planned from a scan pass (`scanSparseLayout` over a fresh `openImage`, which
 *   re-verifies the package hash) and emitted from a second one.
 * The plan is a pure function of (image, limit), so a resumed job with the same limit gets the same pieces;
 * its identity (piece sizes) is journaled and checked on resume.
 */
import {
  ByteReader,
  emitPieces,
  FILE_HEADER_SIZE,
  isSparseHeader,
  minimumDownloadSize,
  parseSparseHeader,
  planSparsePieces,
  rawLayout,
  SparseFormatError,
  type SparsePlan,
  scanSparseLayout,
} from '../protocol/fastboot/sparse/index.js';
import type { FlashImage } from './ports.js';

export interface PlannedPiece {
  readonly index: number;
  /** Bytes on the wire (what `download:` announces). */
  readonly size: number;
  /** Bytes of the partition this piece writes (upper bound: DONT_CARE inside the range is not written). */
  readonly deviceBytes: number;
}

export interface ImagePlan {
  /** The download limit the plan was made for: min(max-download-size, preferred piece size). */
  readonly limit: number;
  readonly pieces: readonly PlannedPiece[];
  /** Bytes the image occupies on the partition once written (sparse: expanded; raw split: block-padded). */
  readonly deviceSize: number;
  /** A raw image sent as sparse pieces: the device holds it zero-padded to a whole block. */
  readonly padded: boolean;
  /** Present when the image is split by the shared codec; absent when it goes as one piece, unchanged. */
  readonly sparse: SparsePlan | undefined;
}

/** The limit handed to the planner: the device's buffer, lowered to the preferred piece size (resume granularity). */
export function pieceLimit(maxDownload: number, preferred: number): number {
  return Math.min(maxDownload, preferred);
}

/** Thrown when the download limit cannot carry a sparse piece; preflight turns it into code 14. */
export class PieceLimitTooSmall extends Error {
  readonly minimum: number;
  constructor(limit: number, minimum: number) {
    super(`a download limit of ${limit} bytes cannot carry a sparse piece (at least ${minimum} needed)`);
    this.name = 'PieceLimitTooSmall';
    this.minimum = minimum;
  }
}

/**
 * Plan one image's pieces. `open` must return the image's verified bytes from the start; it is called once
 * for the header of a fitting sparse image and once for the scan of a sparse image that must be split.
 */
export async function planImage(
  img: FlashImage,
  limit: number,
  open: () => AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): Promise<ImagePlan> {
  if (img.size <= limit) {
    const deviceSize = img.sparse ? await expandedSize(open()) : img.size;
    return {
      limit,
      pieces: [{ index: 0, size: img.size, deviceBytes: deviceSize }],
      deviceSize,
      padded: false,
      sparse: undefined,
    };
  }
  const layout = img.sparse ? await scanSparseLayout(open(), { signal }) : rawLayout(img.size);
  const minimum = minimumDownloadSize(layout.blockSize);
  if (limit < minimum) throw new PieceLimitTooSmall(limit, minimum);
  const plan = planSparsePieces(layout, limit);
  const bs = layout.blockSize;
  return {
    limit,
    pieces: plan.pieces.map((p) => ({
      index: p.index,
      size: p.size,
      deviceBytes: (p.endBlock - p.startBlock) * bs,
    })),
    deviceSize: layout.totalBlocks * bs,
    padded: !img.sparse && img.size % bs !== 0,
    sparse: plan,
  };
}

/** The plan's identity as journaled: a resumed job may skip pieces only if its plan has the same sizes. */
export function planIdentity(plan: ImagePlan): number[] {
  return plan.pieces.map((p) => p.size);
}

export function sameIdentity(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Expanded size of a sparse image from its file header (reads 28 bytes, then closes the stream). */
async function expandedSize(source: AsyncIterable<Uint8Array>): Promise<number> {
  const reader = new ByteReader(source);
  try {
    const head = await reader.readUpTo(FILE_HEADER_SIZE);
    if (head.byteLength < FILE_HEADER_SIZE || !isSparseHeader(head))
      throw new SparseFormatError('it does not start with the sparse magic 0xED26FF3A');
    const h = parseSparseHeader(head);
    return h.totalBlocks * h.blockSize;
  } finally {
    await reader.close();
  }
}

/** One piece of an image as it streams; read `stream` (or `drain()` it) fully before asking for the next. */
export interface PieceStream {
  readonly index: number;
  readonly size: number;
  readonly stream: AsyncIterable<Uint8Array>;
  /**
   * Read whatever the consumer of `stream` left unread, so the source's own end checks (exact size, the
   * package hash on the last piece) run before the piece is flashed. Throws if the piece had extra bytes.
   */
  finish(): Promise<void>;
}

/**
 * The pieces of a planned image from ONE pass over `source`. Pieces already written are still produced
 * (the caller drains them) so every byte of the image flows through the package's hash check.
 */
export async function* imagePieces(
  plan: ImagePlan,
  source: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): AsyncGenerator<PieceStream, void, undefined> {
  if (!plan.sparse) {
    const reader = new ByteReader(source, signal);
    try {
      const p = plan.pieces[0];
      if (!p) return;
      yield { index: 0, size: p.size, ...tracked(exactly(reader, p.size), () => atEnd(reader)) };
    } finally {
      await reader.close();
    }
    return;
  }
  for await (const piece of emitPieces(plan.sparse, source, { signal })) {
    yield { index: piece.index, size: piece.size, ...tracked(piece.stream, async () => undefined) };
  }
}

/**
 * Wraps a single-use piece stream so a consumer that stops after the announced size (returning the
 * iterator early) does not end it: `finish` then pulls it to its real end, where the codec and the
 * package stream run their checks.
 */
function tracked(
  inner: AsyncIterable<Uint8Array>,
  atEnd: () => Promise<void>,
): Pick<PieceStream, 'stream' | 'finish'> {
  const it = inner[Symbol.asyncIterator]();
  let done = false;
  const next = async (): Promise<IteratorResult<Uint8Array>> => {
    if (done) return { done: true, value: undefined };
    const r = await it.next();
    if (r.done) done = true;
    return r;
  };
  const stream: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => ({
      next,
      return: async () => ({ done: true, value: undefined }),
    }),
  };
  return {
    stream,
    finish: async () => {
      for (let r = await next(); !r.done; r = await next()) {
        if (r.value.byteLength > 0) throw new Error('image piece is longer than its planned size');
      }
      await atEnd();
    },
  };
}

/** The next `n` bytes of `reader`, as they come; the stream ending sooner is an error. */
async function* exactly(reader: ByteReader, n: number): AsyncGenerator<Uint8Array> {
  const end = reader.offset + n;
  yield* reader.slices(n);
  if (reader.offset < end) throw new Error('image stream ended before its declared size');
}

/** Pull the source to its end so it runs its own checks (hash, exact size); a byte more is an error. */
async function atEnd(reader: ByteReader): Promise<void> {
  if (!(await reader.atEnd())) throw new Error('image stream is longer than its declared size');
}
