/**
 * The splitter's streaming half: produce the planned pieces from ONE pass over the source. Raw data is passed
 * through as subarrays of the source's chunks; memory stays bounded by the source's chunk size whatever the
 * image size. Pieces must be consumed in order, each stream to its end before asking for the next piece.
 */
import { ByteReader, type ByteSource } from './byte-reader.js';
import { decodeFromReader, type SparseOp } from './decoder.js';
import {
  CHUNK_TYPE,
  encodeChunkHeader,
  encodeSparseHeader,
  FILL_DATA_SIZE,
  SparseFormatError,
} from './format.js';
import type { SparseLayout } from './layout.js';
import { type PlannedChunk, planSparsePieces, type SparsePiecePlan, type SparsePlan } from './plan.js';
import { rawSourceOps } from './raw-ops.js';

export interface SparsePiece {
  /** 0-based piece number and the number of pieces (for "sending sparse 'system' 2/5" messages). */
  readonly index: number;
  readonly count: number;
  /** Exact byte size of `stream`. */
  readonly size: number;
  /** Output block range [startBlock, endBlock) the piece writes (for resume); bytes = blocks × blockSize. */
  readonly startBlock: number;
  readonly endBlock: number;
  /** The piece's bytes. Single use; throws SparseFormatError if the source disagrees with the plan. */
  readonly stream: AsyncIterable<Uint8Array>;
}

export interface EmitOptions {
  readonly signal?: AbortSignal;
}

/**
 * Pulls byte-exact amounts from the source's operation stream, splitting operations as needed. DONT_CARE in
 * the source is whatever the plan leaves as a gap, so skip operations are discarded when the plan asks for a
 * later offset; anything else in a gap means the source does not match the plan.
 */
class OpCursor {
  readonly #ops: AsyncIterator<SparseOp, unknown>;
  #pending: SparseOp | undefined;
  #position = 0;

  constructor(ops: AsyncIterator<SparseOp, unknown>) {
    this.#ops = ops;
  }

  async #next(what: string): Promise<SparseOp> {
    if (this.#pending) return this.#pending;
    const r = await this.#ops.next();
    if (r.done)
      throw mismatch(`the source ended at byte ${this.#position} of the image while ${what} was expected`);
    this.#pending = r.value;
    return r.value;
  }

  #advance(op: SparseOp, n: number, length: number): void {
    this.#position += n;
    if (n === length) {
      this.#pending = undefined;
      return;
    }
    if (op.kind === 'data') this.#pending = { ...op, offset: op.offset + n, bytes: op.bytes.subarray(n) };
    else this.#pending = { ...op, offset: op.offset + n, length: length - n };
  }

  async #skipTo(offset: number): Promise<void> {
    while (this.#position < offset) {
      const op = await this.#next('DONT_CARE');
      if (op.kind !== 'skip') {
        throw mismatch(`byte ${this.#position} is ${op.kind} in the source but DONT_CARE in the plan`);
      }
      this.#advance(op, Math.min(offset - this.#position, op.length), op.length);
    }
  }

  async *data(offset: number, n: number): AsyncGenerator<Uint8Array> {
    await this.#skipTo(offset);
    let left = n;
    while (left > 0) {
      const op = await this.#next('data');
      if (op.kind !== 'data')
        throw mismatch(`byte ${this.#position} is ${op.kind} in the source but data in the plan`);
      const take = Math.min(left, op.bytes.byteLength);
      const bytes = take === op.bytes.byteLength ? op.bytes : op.bytes.subarray(0, take);
      this.#advance(op, take, op.bytes.byteLength);
      left -= take;
      yield bytes;
    }
  }

  async fill(offset: number, n: number, value: Uint8Array): Promise<void> {
    await this.#skipTo(offset);
    let left = n;
    while (left > 0) {
      const op = await this.#next('fill');
      if (op.kind !== 'fill')
        throw mismatch(`byte ${this.#position} is ${op.kind} in the source but fill in the plan`);
      if (!sameWord(op.value, value))
        throw mismatch(`fill value at byte ${this.#position} differs from the scan`);
      const take = Math.min(left, op.length);
      this.#advance(op, take, op.length);
      left -= take;
    }
  }

  /** Run the source to its end (its final validations: CRC, counts, trailing bytes) expecting only DONT_CARE. */
  async finish(imageBytes: number): Promise<void> {
    await this.#skipTo(imageBytes);
    if (this.#pending) throw mismatch(`the source has more than the plan after byte ${this.#position}`);
    const r = await this.#ops.next();
    if (!r.done) throw mismatch(`the source has more than the plan after byte ${this.#position}`);
  }
}

function mismatch(msg: string): SparseFormatError {
  return new SparseFormatError(
    `image does not match its scan (${msg}); was the file changed while flashing?`,
  );
}

function sameWord(a: Uint8Array, b: Uint8Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

async function* sourceOps(layout: SparseLayout, reader: ByteReader): AsyncGenerator<SparseOp, unknown> {
  if (layout.source === 'raw') return yield* rawSourceOps(layout, reader);
  return yield* decodeFromReader(reader, {
    verifyCrc: layout.hasCrc,
    onHeader: (h) => {
      if (h.blockSize !== layout.blockSize || h.totalBlocks !== layout.totalBlocks) {
        throw mismatch(`header says ${h.totalBlocks} blocks of ${h.blockSize} bytes`);
      }
    },
  });
}

async function* pieceBytes(
  plan: SparsePlan,
  piece: SparsePiecePlan,
  cursor: OpCursor,
  last: boolean,
): AsyncGenerator<Uint8Array> {
  const bs = plan.layout.blockSize;
  yield encodeSparseHeader({
    blockSize: bs,
    totalBlocks: plan.layout.totalBlocks,
    totalChunks: piece.chunks.length,
  });
  for (const c of piece.chunks) yield* chunkBytes(c, bs, cursor);
  if (last) await cursor.finish(plan.layout.totalBlocks * bs);
}

async function* chunkBytes(c: PlannedChunk, bs: number, cursor: OpCursor): AsyncGenerator<Uint8Array> {
  const length = c.blocks * bs;
  if (c.kind === 'raw') {
    yield encodeChunkHeader(CHUNK_TYPE.raw, c.blocks, length);
    yield* cursor.data(c.startBlock * bs, length);
  } else if (c.kind === 'fill') {
    await cursor.fill(c.startBlock * bs, length, c.value);
    yield encodeChunkHeader(CHUNK_TYPE.fill, c.blocks, FILL_DATA_SIZE, c.value);
  } else {
    yield encodeChunkHeader(CHUNK_TYPE.dontCare, c.blocks, 0);
  }
}

/** Single-use stream that checks it yields exactly the byte count it promised. */
function exact(
  make: () => AsyncIterable<Uint8Array>,
  size: number,
  state: { done: boolean },
): AsyncIterable<Uint8Array> {
  let used = false;
  async function* run(): AsyncGenerator<Uint8Array> {
    let sent = 0;
    for await (const b of make()) {
      sent += b.byteLength;
      if (sent > size) throw mismatch(`piece grew past its planned ${size} bytes`);
      yield b;
    }
    if (sent !== size) throw mismatch(`piece has ${sent} bytes, planned ${size}`);
    state.done = true;
  }
  return {
    [Symbol.asyncIterator]() {
      if (used) throw new Error('a sparse piece stream can be read only once');
      used = true;
      return run();
    },
  };
}

/**
 * Stream the planned pieces from one pass over `source` (the same bytes the layout was scanned from).
 * Every byte a piece stream yields is final and counted in `size`; a source that disagrees with the plan
 * (changed file, CRC mismatch, wrong length) makes the current piece stream throw SparseFormatError.
 */
export async function* emitPieces(
  plan: SparsePlan,
  source: ByteSource,
  options: EmitOptions = {},
): AsyncGenerator<SparsePiece, void, undefined> {
  const reader = new ByteReader(source, options.signal);
  try {
    const count = plan.pieces.length;
    if (plan.passThrough) {
      const p = plan.pieces[0]!;
      const state = { done: false };
      yield { ...pieceInfo(p, count), stream: exact(() => passThrough(reader, p.size), p.size, state) };
      if (!state.done)
        throw new Error('sparse piece 1 was not read to its end before the next was requested');
      return;
    }
    const cursor = new OpCursor(sourceOps(plan.layout, reader));
    for (const p of plan.pieces) {
      const state = { done: false };
      const bytes = () => pieceBytes(plan, p, cursor, p.index === count - 1);
      yield { ...pieceInfo(p, count), stream: exact(bytes, p.size, state) };
      if (!state.done) {
        throw new Error(`sparse piece ${p.index + 1} was not read to its end before the next was requested`);
      }
    }
  } finally {
    await reader.close();
  }
}

function pieceInfo(p: SparsePiecePlan, count: number) {
  return { index: p.index, count, size: p.size, startBlock: p.startBlock, endBlock: p.endBlock };
}

async function* passThrough(reader: ByteReader, size: number): AsyncGenerator<Uint8Array> {
  yield* reader.slices(size);
  if (!(await reader.atEnd())) throw mismatch(`the sparse source is longer than the scanned ${size} bytes`);
}

/**
 * Encode a whole image as ONE sparse image (the encoder): `layout` from {@link scanRawLayout} (FILL/DONT_CARE
 * detection, as img2simg) or {@link rawLayout} (all RAW). Returns the exact size before any byte flows.
 */
export function encodeSparse(
  layout: SparseLayout,
  source: ByteSource,
  options: EmitOptions = {},
): { size: number; stream: AsyncIterable<Uint8Array> } {
  const plan = planSparsePieces(layout, Number.MAX_SAFE_INTEGER, { passThroughWhenFits: false });
  const p = plan.pieces[0]!;
  return {
    size: p.size,
    stream: (async function* () {
      for await (const piece of emitPieces(plan, source, options)) yield* piece.stream;
    })(),
  };
}
