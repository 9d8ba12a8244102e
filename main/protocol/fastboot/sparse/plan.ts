/**
 * The splitter's planning half: cut a layout into sparse pieces no larger than max-download-size, with the
 * semantics of libsparse's sparse_file_resparse (what AOSP fastboot does): each piece is a complete sparse
 * image of the full block count that covers one block range with data and says DONT_CARE elsewhere, so the
 * pieces flash independently, in order, and their union is the whole image. Pure and O(extents).
 */
import { CHUNK_HEADER_SIZE, FILE_HEADER_SIZE, FILL_DATA_SIZE } from './format.js';
import type { LayoutExtent, SparseLayout } from './layout.js';

/** A chunk of a piece as it will be written; DONT_CARE chunks fill the gaps and never read the source. */
export type PlannedChunk = LayoutExtent;

export interface SparsePiecePlan {
  readonly index: number;
  /** Output block range [startBlock, endBlock) this piece writes; ranges partition [0, totalBlocks). */
  readonly startBlock: number;
  readonly endBlock: number;
  /** Exact byte size of the piece (what fastboot's `download:` announces). */
  readonly size: number;
  readonly chunks: readonly PlannedChunk[];
}

export interface SparsePlan {
  readonly layout: SparseLayout;
  readonly maxDownloadSize: number;
  /**
   * True when the source is a sparse image that fits as it is: the single piece is the source bytes
   * unchanged (CRC chunks and all), as AOSP fastboot sends it.
   */
  readonly passThrough: boolean;
  readonly pieces: readonly SparsePiecePlan[];
}

export interface PlanOptions {
  /** Send a fitting sparse source unchanged (default true). False re-encodes it into one piece. */
  readonly passThroughWhenFits?: boolean;
}

const RAW_CHUNK_MAX_BYTES = 0xffffffff - CHUNK_HEADER_SIZE;
/** What libsparse's resparse reserves per piece: file header, trailing DONT_CARE and room for a CRC chunk. */
const PIECE_OVERHEAD = FILE_HEADER_SIZE + 2 * CHUNK_HEADER_SIZE + 4;

function chunkCost(kind: PlannedChunk['kind'], blocks: number, blockSize: number): number {
  if (kind === 'raw') return CHUNK_HEADER_SIZE + blocks * blockSize;
  return kind === 'fill' ? CHUNK_HEADER_SIZE + FILL_DATA_SIZE : CHUNK_HEADER_SIZE;
}

/** Smallest max-download-size that can carry any piece of a layout with this block size. */
export function minimumDownloadSize(blockSize: number): number {
  return PIECE_OVERHEAD + 2 * CHUNK_HEADER_SIZE + blockSize;
}

type DataChunk = Extract<PlannedChunk, { kind: 'raw' | 'fill' }>;

/**
 * Plan the pieces. Packing follows libsparse's move_chunks_up_to_len so the pieces come out as AOSP
 * fastboot's (and simg2simg's) do: chunks are taken in order while they fit the budget; the chunk that does
 * not fit is split when it is the piece's first or when more than 1/8 of the budget is left (pieces are at
 * least 7/8 full without cutting data into slivers). DONT_CARE extents are gaps that cost one chunk header.
 * Throws RangeError when `maxDownloadSize` is not a positive integer or is below {@link minimumDownloadSize}.
 * Use `Number.MAX_SAFE_INTEGER` for "one piece" (plain encoding).
 */
export function planSparsePieces(
  layout: SparseLayout,
  maxDownloadSize: number,
  options: PlanOptions = {},
): SparsePlan {
  if (!Number.isSafeInteger(maxDownloadSize) || maxDownloadSize <= 0) {
    throw new RangeError(`max-download-size ${maxDownloadSize} is not a positive byte count`);
  }
  const bs = layout.blockSize;
  const fits = layout.source === 'sparse' && layout.sourceSize <= maxDownloadSize;
  if (fits && (options.passThroughWhenFits ?? true)) {
    return {
      layout,
      maxDownloadSize,
      passThrough: true,
      pieces: [
        { index: 0, startBlock: 0, endBlock: layout.totalBlocks, size: layout.sourceSize, chunks: [] },
      ],
    };
  }
  const minimum = minimumDownloadSize(bs);
  if (maxDownloadSize < minimum) {
    throw new RangeError(
      `max-download-size ${maxDownloadSize} is too small for sparse pieces of ${bs}-byte blocks (need at least ${minimum})`,
    );
  }
  const budget = maxDownloadSize - PIECE_OVERHEAD;
  const rawChunkMaxBlocks = Math.floor(RAW_CHUNK_MAX_BYTES / bs);
  const groups: DataChunk[][] = [];
  let cur: DataChunk[] = [];
  let used = 0;
  let lastEnd = 0;
  const close = () => {
    groups.push(cur);
    cur = [];
    used = 0;
    lastEnd = 0;
  };
  for (const e of layout.extents) {
    if (e.kind === 'skip') continue;
    let start = e.startBlock;
    let left = e.blocks;
    while (left > 0) {
      let take = e.kind === 'raw' ? Math.min(left, rawChunkMaxBlocks) : left;
      const cost = (start > lastEnd ? CHUNK_HEADER_SIZE : 0) + chunkCost(e.kind, take, bs);
      let full = false;
      if (used + cost > budget) {
        const room = budget - used - CHUNK_HEADER_SIZE;
        if (cur.length > 0 && room <= Math.floor(budget / 8)) {
          close();
          continue;
        }
        const fitting = Math.floor(room / bs);
        if (fitting <= 0) {
          // Only a non-empty piece can get here (minimumDownloadSize leaves a block of room in an empty one).
          close();
          continue;
        }
        take = Math.min(take, fitting);
        full = true;
      }
      cur.push(
        e.kind === 'fill'
          ? { kind: 'fill', startBlock: start, blocks: take, value: e.value }
          : { kind: 'raw', startBlock: start, blocks: take },
      );
      used += (start > lastEnd ? CHUNK_HEADER_SIZE : 0) + chunkCost(e.kind, take, bs);
      lastEnd = start + take;
      start += take;
      left -= take;
      if (full) close();
    }
  }
  if (cur.length > 0 || groups.length === 0) groups.push(cur);
  const total = layout.totalBlocks;
  let startBlock = 0;
  const pieces = groups.map((data, index): SparsePiecePlan => {
    const last = data.at(-1);
    const endBlock = index === groups.length - 1 || !last ? total : last.startBlock + last.blocks;
    const chunks = withGaps(data, total);
    const size = chunks.reduce((sum, c) => sum + chunkCost(c.kind, c.blocks, bs), FILE_HEADER_SIZE);
    const piece: SparsePiecePlan = { index, startBlock, endBlock, size, chunks };
    startBlock = endBlock;
    return piece;
  });
  return { layout, maxDownloadSize, passThrough: false, pieces };
}

/** Data chunks with DONT_CARE chunks in every gap, from block 0 to `total`. */
function withGaps(data: readonly DataChunk[], total: number): PlannedChunk[] {
  const out: PlannedChunk[] = [];
  let at = 0;
  for (const c of data) {
    if (c.startBlock > at) out.push({ kind: 'skip', startBlock: at, blocks: c.startBlock - at });
    out.push(c);
    at = c.startBlock + c.blocks;
  }
  if (at < total) out.push({ kind: 'skip', startBlock: at, blocks: total - at });
  return out;
}
