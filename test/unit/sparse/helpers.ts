/** Test helpers for the sparse codec: hand-built images, split sources, an applier onto a byte buffer. */
import { crc32 } from 'node:zlib';
import { type ByteSource, decodeSparse } from '../../../main/protocol/fastboot/sparse/index.js';

export type ChunkSpec =
  | { type: 'raw'; data: Uint8Array; blocks?: number; totalSize?: number }
  | { type: 'fill'; blocks: number; value: number; totalSize?: number }
  | { type: 'skip'; blocks: number; totalSize?: number; data?: Uint8Array }
  | { type: 'crc'; value?: number; blocks?: number }
  | { type: 'unknown'; code: number };

export interface ImageSpec {
  blockSize?: number;
  totalBlocks?: number;
  totalChunks?: number;
  magic?: number;
  major?: number;
  fileHeaderSize?: number;
  chunkHeaderSize?: number;
  imageChecksum?: number;
  chunks: ChunkSpec[];
}

const TYPE_CODES = { raw: 0xcac1, fill: 0xcac2, skip: 0xcac3, crc: 0xcac4 } as const;

/**
 * Build a sparse image independently of the encoder under test (so tests do not check the code against
 * itself). CRC chunks without a value get the correct running CRC of the expanded image so far.
 */
export function buildSparse(spec: ImageSpec): Uint8Array {
  const bs = spec.blockSize ?? 4096;
  const fhs = spec.fileHeaderSize ?? 28;
  const chs = spec.chunkHeaderSize ?? 12;
  const parts: Uint8Array[] = [];
  let blocks = 0;
  let crc = 0;
  for (const c of spec.chunks) {
    const h = Buffer.alloc(Math.max(chs, 12), 0xee);
    let data: Uint8Array = new Uint8Array(0);
    let n = 0;
    let code: number;
    if (c.type === 'raw') {
      code = TYPE_CODES.raw;
      data = c.data;
      n = c.blocks ?? c.data.byteLength / bs;
      crc = crc32(c.data, crc);
    } else if (c.type === 'fill') {
      code = TYPE_CODES.fill;
      data = Buffer.alloc(4);
      Buffer.from(data.buffer).writeUInt32LE(c.value >>> 0, 0);
      n = c.blocks;
      crc = crc32(Buffer.alloc(n * bs).fill(Buffer.from(data)), crc);
    } else if (c.type === 'skip') {
      code = TYPE_CODES.skip;
      n = c.blocks;
      data = c.data ?? data;
      crc = crc32(Buffer.alloc(n * bs), crc);
    } else if (c.type === 'crc') {
      code = TYPE_CODES.crc;
      data = Buffer.alloc(4);
      Buffer.from(data.buffer).writeUInt32LE((c.value ?? crc) >>> 0, 0);
      n = c.blocks ?? 0;
    } else {
      code = c.code;
    }
    h.writeUInt16LE(code, 0);
    h.writeUInt16LE(0, 2);
    h.writeUInt32LE(n >>> 0, 4);
    const total = 'totalSize' in c && c.totalSize !== undefined ? c.totalSize : chs + data.byteLength;
    h.writeUInt32LE(total >>> 0, 8);
    parts.push(h, data);
    if (c.type !== 'crc') blocks += n;
  }
  const fh = Buffer.alloc(Math.max(fhs, 28), 0xdd);
  fh.writeUInt32LE(spec.magic ?? 0xed26ff3a, 0);
  fh.writeUInt16LE(spec.major ?? 1, 4);
  fh.writeUInt16LE(0, 6);
  fh.writeUInt16LE(fhs, 8);
  fh.writeUInt16LE(chs, 10);
  fh.writeUInt32LE(bs, 12);
  fh.writeUInt32LE(spec.totalBlocks ?? blocks, 16);
  fh.writeUInt32LE(spec.totalChunks ?? spec.chunks.length, 20);
  fh.writeUInt32LE(spec.imageChecksum ?? 0, 24);
  return Buffer.concat([fh, ...parts]);
}

/** Yield `bytes` cut at the given sizes (cycled), fresh copies so no test relies on shared buffers. */
export async function* splitSource(bytes: Uint8Array, cuts: readonly number[] = [bytes.byteLength || 1]) {
  let pos = 0;
  let i = 0;
  while (pos < bytes.byteLength) {
    const n = Math.max(1, cuts[i++ % cuts.length]!);
    yield bytes.slice(pos, pos + n);
    pos += n;
  }
}

export async function collect(stream: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  for await (const b of stream) parts.push(b.slice());
  return Buffer.concat(parts);
}

/** Apply a sparse image's operations onto `target` (DONT_CARE leaves bytes as they are). */
export async function applySparse(target: Uint8Array, sparse: ByteSource): Promise<void> {
  for await (const op of decodeSparse(sparse)) {
    if (op.kind === 'data') target.set(op.bytes, op.offset);
    else if (op.kind === 'fill') {
      Buffer.from(target.buffer, target.byteOffset, target.byteLength).fill(
        op.value,
        op.offset,
        op.offset + op.length,
      );
    }
  }
}

/** Expand a sparse image into a fresh buffer of its full size (DONT_CARE as zeros, like simg2img). */
export async function expand(sparse: Uint8Array, cuts?: readonly number[]): Promise<Buffer> {
  const bs = Buffer.from(sparse.buffer, sparse.byteOffset).readUInt32LE(12);
  const total = Buffer.from(sparse.buffer, sparse.byteOffset).readUInt32LE(16);
  const out = Buffer.alloc(bs * total);
  await applySparse(out, splitSource(sparse, cuts));
  return out;
}

/** Deterministic pseudo-random bytes (xorshift) so failures reproduce. */
export function pseudoRandom(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
