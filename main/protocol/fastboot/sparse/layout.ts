/**
 * Layouts: what an image looks like block by block, without its data (O(extents) memory). A layout is what
 * the splitter plans from; it comes from a cheap scan pass (sparse: chunk headers; raw: block classes) or,
 * for a raw image when a second pass is unwanted, from the size alone.
 */
import { ByteReader, type ByteSource } from './byte-reader.js';
import { decodeSparse } from './decoder.js';
import {
  DEFAULT_SPARSE_BLOCK_SIZE,
  isValidBlockSize,
  MAX_SPARSE_BLOCK_SIZE,
  SparseFormatError,
} from './format.js';

/** A run of output blocks of one kind. Extents of a layout are contiguous and cover [0, totalBlocks). */
export type LayoutExtent =
  | { readonly kind: 'raw'; readonly startBlock: number; readonly blocks: number }
  | {
      readonly kind: 'fill';
      readonly startBlock: number;
      readonly blocks: number;
      readonly value: Uint8Array;
    }
  | { readonly kind: 'skip'; readonly startBlock: number; readonly blocks: number };

export interface SparseLayout {
  /** What the source bytes are: a sparse image, or the raw image itself. */
  readonly source: 'sparse' | 'raw';
  readonly blockSize: number;
  readonly totalBlocks: number;
  /** Exact byte length of the source stream (for a raw source the image size; the last block may be partial). */
  readonly sourceSize: number;
  /** Sparse source only: whether it has CRC32 chunks (the emitter then keeps a running CRC). */
  readonly hasCrc: boolean;
  readonly extents: readonly LayoutExtent[];
}

function checkBlockSize(blockSize: number): void {
  if (!isValidBlockSize(blockSize)) {
    throw new RangeError(
      `block size ${blockSize} must be a positive multiple of 4 up to ${MAX_SPARSE_BLOCK_SIZE}`,
    );
  }
}

function checkRawSize(size: number, blockSize: number): number {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new RangeError(`raw image size ${size} is not a byte count`);
  const totalBlocks = Math.ceil(size / blockSize);
  if (totalBlocks > 0xffffffff) {
    throw new RangeError(`raw image of ${size} bytes has more than 2^32 blocks of ${blockSize} bytes`);
  }
  return totalBlocks;
}

/**
 * Layout of a raw image known only by its size: every block is RAW data (a partial last block is padded
 * with zeros, as libsparse does). No scan needed; pieces then carry all bytes.
 */
export function rawLayout(size: number, blockSize = DEFAULT_SPARSE_BLOCK_SIZE): SparseLayout {
  checkBlockSize(blockSize);
  const totalBlocks = checkRawSize(size, blockSize);
  return {
    source: 'raw',
    blockSize,
    totalBlocks,
    sourceSize: size,
    hasCrc: false,
    extents: totalBlocks > 0 ? [{ kind: 'raw', startBlock: 0, blocks: totalBlocks }] : [],
  };
}

/** Scan a sparse image's chunk headers (validating it fully, CRC32 chunks included) into a layout. */
export async function scanSparseLayout(
  source: ByteSource,
  options: { signal?: AbortSignal } = {},
): Promise<SparseLayout> {
  const extents: LayoutExtent[] = [];
  let hasCrc = false;
  const ops = decodeSparse(source, {
    ...options,
    onChunk: (c) => {
      const last = extents.at(-1);
      if (c.type === 'crc32') hasCrc = true;
      else if (c.blocks === 0) return;
      // Adjacent FILLs of one value and adjacent DONT_CAREs merge, as in libsparse's backed-block list.
      else if (
        last &&
        last.kind === c.type &&
        (c.type !== 'fill' || sameWord(c.value!, (last as { value: Uint8Array }).value))
      )
        extents[extents.length - 1] = { ...last, blocks: last.blocks + c.blocks };
      else if (c.type === 'fill')
        extents.push({ kind: 'fill', startBlock: c.startBlock, blocks: c.blocks, value: c.value! });
      else extents.push({ kind: c.type, startBlock: c.startBlock, blocks: c.blocks });
    },
  });
  for (;;) {
    const r = await ops.next();
    if (r.done) {
      const h = r.value.header;
      return {
        source: 'sparse',
        blockSize: h.blockSize,
        totalBlocks: h.totalBlocks,
        sourceSize: r.value.inputBytes,
        hasCrc,
        extents,
      };
    }
  }
}

export interface RawScanOptions {
  readonly blockSize?: number;
  /**
   * How all-zero blocks are sent: 'fill' (default, as img2simg and fastboot do: the device writes zeros) or
   * 'skip' (DONT_CARE: the device leaves them untouched — only right for a freshly erased target).
   */
  readonly zeroBlocks?: 'fill' | 'skip';
  readonly signal?: AbortSignal;
}

/**
 * Scan a raw image and classify its blocks as libsparse's img2simg does: a full block made of one repeated
 * 32-bit word becomes FILL (or DONT_CARE for zeros with `zeroBlocks: 'skip'`), anything else RAW. Adjacent
 * extents of the same kind are merged. `expectedSize`, when given, is checked against the stream length.
 */
export async function scanRawLayout(
  source: ByteSource,
  options: RawScanOptions & { expectedSize?: number } = {},
): Promise<SparseLayout> {
  const blockSize = options.blockSize ?? DEFAULT_SPARSE_BLOCK_SIZE;
  checkBlockSize(blockSize);
  const zeroAsSkip = options.zeroBlocks === 'skip';
  const reader = new ByteReader(source, options.signal);
  // Built mutable (one object per extent, not per block), handed out as the readonly LayoutExtent[].
  const extents: { kind: 'raw' | 'fill' | 'skip'; startBlock: number; blocks: number; value?: Uint8Array }[] =
    [];
  let block = 0;
  const classify = (bytes: Uint8Array) => {
    const word = bytes.byteLength === blockSize ? repeatedWord(bytes) : undefined;
    const kind = word === undefined ? 'raw' : zeroAsSkip && isZeroWord(word) ? 'skip' : 'fill';
    const last = extents.at(-1);
    if (last && last.kind === kind && (kind !== 'fill' || sameWord(word!, last.value!))) last.blocks++;
    else if (kind === 'fill') extents.push({ kind, startBlock: block, blocks: 1, value: word! });
    else extents.push({ kind, startBlock: block, blocks: 1 });
    block++;
  };
  // Blocks inside one source chunk are classified in place; only a block straddling chunks is copied.
  const scratch = new Uint8Array(blockSize);
  let have = 0;
  try {
    for (;;) {
      const s = await reader.read(Number.MAX_SAFE_INTEGER);
      if (!s) break;
      let i = 0;
      if (have > 0) {
        i = Math.min(blockSize - have, s.byteLength);
        scratch.set(s.subarray(0, i), have);
        have += i;
        if (have < blockSize) continue;
        classify(scratch);
        have = 0;
      }
      for (; s.byteLength - i >= blockSize; i += blockSize) classify(s.subarray(i, i + blockSize));
      if (i < s.byteLength) {
        scratch.set(s.subarray(i), 0);
        have = s.byteLength - i;
      }
    }
    if (have > 0) classify(scratch.subarray(0, have));
  } finally {
    await reader.close();
  }
  const size = reader.offset;
  if (options.expectedSize !== undefined && size !== options.expectedSize) {
    throw new SparseFormatError(`raw image is ${size} bytes, expected ${options.expectedSize}`);
  }
  checkRawSize(size, blockSize);
  return {
    source: 'raw',
    blockSize,
    totalBlocks: block,
    sourceSize: size,
    hasCrc: false,
    extents: extents as LayoutExtent[],
  };
}

function isZeroWord(w: Uint8Array): boolean {
  return w[0] === 0 && w[1] === 0 && w[2] === 0 && w[3] === 0;
}

function sameWord(a: Uint8Array, b: Uint8Array): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2] && a[3] === b[3];
}

/** The 4-byte word a block repeats, or undefined. */
export function repeatedWord(block: Uint8Array): Uint8Array | undefined {
  const n = block.byteLength;
  if (n < 4) return undefined;
  if (block.byteOffset % 4 === 0) {
    const words = new Uint32Array(block.buffer, block.byteOffset, n >>> 2);
    const w = words[0]!;
    for (let i = 1; i < words.length; i++) if (words[i] !== w) return undefined;
  } else {
    const a = block[0]!;
    const b = block[1]!;
    const c = block[2]!;
    const d = block[3]!;
    for (let i = 4; i < n; i += 4) {
      if (block[i] !== a || block[i + 1] !== b || block[i + 2] !== c || block[i + 3] !== d) return undefined;
    }
  }
  // A real copy (Buffer#slice is a view): layouts must not pin source chunks.
  return new Uint8Array(block.subarray(0, 4));
}
