/**
 * Android sparse image format constants, header codecs and the error type (libsparse sparse_format.h):
 * a 28-byte little-endian file header followed by `total_chunks` chunks, each a 12-byte chunk header and
 * its data. Pure functions, shared by the host client and the virtual device.
 */
import { FlashlineError } from '../../../common/errors.js';

export const SPARSE_MAGIC = 0xed26ff3a;
export const SPARSE_MAJOR_VERSION = 1;
export const FILE_HEADER_SIZE = 28;
export const CHUNK_HEADER_SIZE = 12;
/** Bytes of chunk data after the header of a FILL chunk (the 4-byte pattern) and of a CRC32 chunk. */
export const FILL_DATA_SIZE = 4;
export const CRC_DATA_SIZE = 4;
/** libsparse's and fastboot's default block size (a device block; not a package's hash block size). */
export const DEFAULT_SPARSE_BLOCK_SIZE = 4096;
/**
 * Largest block size we accept. libsparse has no limit, but a block is the unit the encoder buffers and
 * multi-MiB blocks only appear in hostile input; 64 MiB keeps offsets far below 2^53 as well.
 */
export const MAX_SPARSE_BLOCK_SIZE = 64 * 1024 * 1024;

/** A block size libsparse can write and we accept: a positive multiple of 4 up to MAX_SPARSE_BLOCK_SIZE. */
export function isValidBlockSize(blockSize: number): boolean {
  return (
    Number.isInteger(blockSize) && blockSize > 0 && blockSize % 4 === 0 && blockSize <= MAX_SPARSE_BLOCK_SIZE
  );
}

export const CHUNK_TYPE = {
  raw: 0xcac1,
  fill: 0xcac2,
  dontCare: 0xcac3,
  crc32: 0xcac4,
} as const;
export type ChunkTypeCode = (typeof CHUNK_TYPE)[keyof typeof CHUNK_TYPE];

export interface SparseHeader {
  readonly majorVersion: number;
  readonly minorVersion: number;
  /** Declared file header size; bytes beyond the 28 we understand are skipped, as libsparse does. */
  readonly fileHeaderSize: number;
  /** Declared chunk header size; bytes beyond the 12 we understand are skipped, as libsparse does. */
  readonly chunkHeaderSize: number;
  readonly blockSize: number;
  readonly totalBlocks: number;
  readonly totalChunks: number;
  /** CRC32 of the expanded image (DONT_CARE counted as zeros); 0 when the writer did not compute it. */
  readonly imageChecksum: number;
}

export interface ChunkHeader {
  readonly type: number;
  /** Size in output blocks. */
  readonly blocks: number;
  /** Size in the sparse file, chunk header included. */
  readonly totalSize: number;
}

/** Where in the input a format error was found, for technicians and logs. */
export interface SparseErrorDetail {
  /** Byte offset in the sparse input. */
  readonly inputOffset?: number;
  /** 0-based chunk index, when the error belongs to one chunk. */
  readonly chunk?: number;
}

/** The sparse input is not a valid Android sparse image (or a planned source did not match its scan). */
export class SparseFormatError extends FlashlineError {
  constructor(message: string, detail: SparseErrorDetail = {}) {
    super('bad_sparse_image', message, detail);
    this.name = 'SparseFormatError';
  }
}

function u32(bytes: Uint8Array, at: number): number {
  return (bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24)) >>> 0;
}

function u16(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8);
}

/**
 * True when `bytes` starts with the sparse magic (only the first 4 bytes are needed). This is the cheap
 * "is it sparse?" test a flasher does on the first read; full validation is {@link parseSparseHeader}'s job.
 */
export function isSparseHeader(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 4 && u32(bytes, 0) === SPARSE_MAGIC;
}

/** Parse and validate the first 28 bytes of a sparse image. Throws {@link SparseFormatError}. */
export function parseSparseHeader(bytes: Uint8Array): SparseHeader {
  if (bytes.byteLength < FILE_HEADER_SIZE) {
    throw new SparseFormatError(
      `sparse header truncated: ${bytes.byteLength} of ${FILE_HEADER_SIZE} bytes; the image file is incomplete`,
      { inputOffset: 0 },
    );
  }
  const magic = u32(bytes, 0);
  if (magic !== SPARSE_MAGIC) {
    throw new SparseFormatError(
      `not an Android sparse image: magic is 0x${magic.toString(16).padStart(8, '0')}, expected 0xed26ff3a`,
      { inputOffset: 0 },
    );
  }
  const header: SparseHeader = {
    majorVersion: u16(bytes, 4),
    minorVersion: u16(bytes, 6),
    fileHeaderSize: u16(bytes, 8),
    chunkHeaderSize: u16(bytes, 10),
    blockSize: u32(bytes, 12),
    totalBlocks: u32(bytes, 16),
    totalChunks: u32(bytes, 20),
    imageChecksum: u32(bytes, 24),
  };
  if (header.majorVersion !== SPARSE_MAJOR_VERSION) {
    throw new SparseFormatError(
      `unsupported sparse format version ${header.majorVersion}.${header.minorVersion} (only major version 1 exists); rebuild the image with img2simg`,
      { inputOffset: 4 },
    );
  }
  if (header.fileHeaderSize < FILE_HEADER_SIZE) {
    throw new SparseFormatError(
      `sparse file header size ${header.fileHeaderSize} is smaller than ${FILE_HEADER_SIZE}; the image is corrupt`,
      { inputOffset: 8 },
    );
  }
  if (header.chunkHeaderSize < CHUNK_HEADER_SIZE) {
    throw new SparseFormatError(
      `sparse chunk header size ${header.chunkHeaderSize} is smaller than ${CHUNK_HEADER_SIZE}; the image is corrupt`,
      { inputOffset: 10 },
    );
  }
  if (!isValidBlockSize(header.blockSize)) {
    throw new SparseFormatError(
      `sparse block size ${header.blockSize} is invalid: it must be a non-zero multiple of 4 up to ${MAX_SPARSE_BLOCK_SIZE}`,
      { inputOffset: 12 },
    );
  }
  if (header.totalBlocks * header.blockSize > Number.MAX_SAFE_INTEGER) {
    throw new SparseFormatError(
      `sparse image expands to ${header.totalBlocks} blocks of ${header.blockSize} bytes, too large to address`,
      { inputOffset: 16 },
    );
  }
  return header;
}

function checkU32(name: string, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
    throw new RangeError(`${name} ${value} does not fit the sparse format's 32-bit field`);
  }
}

/** Encode a version-1.0 file header with the standard 28/12 header sizes. */
export function encodeSparseHeader(h: {
  blockSize: number;
  totalBlocks: number;
  totalChunks: number;
  imageChecksum?: number;
}): Uint8Array {
  checkU32('block size', h.blockSize);
  checkU32('total blocks', h.totalBlocks);
  checkU32('total chunks', h.totalChunks);
  const out = new Uint8Array(FILE_HEADER_SIZE);
  const view = new DataView(out.buffer);
  view.setUint32(0, SPARSE_MAGIC, true);
  view.setUint16(4, SPARSE_MAJOR_VERSION, true);
  view.setUint16(6, 0, true);
  view.setUint16(8, FILE_HEADER_SIZE, true);
  view.setUint16(10, CHUNK_HEADER_SIZE, true);
  view.setUint32(12, h.blockSize, true);
  view.setUint32(16, h.totalBlocks, true);
  view.setUint32(20, h.totalChunks, true);
  view.setUint32(24, h.imageChecksum ?? 0, true);
  return out;
}

/** Parse the first 12 bytes of a chunk header (the caller skips any extra declared header bytes). */
export function parseChunkHeader(bytes: Uint8Array): ChunkHeader {
  return { type: u16(bytes, 0), blocks: u32(bytes, 4), totalSize: u32(bytes, 8) };
}

/**
 * Encode a chunk header, followed by `extra` (the FILL pattern or CRC value) in the same buffer so a FILL
 * chunk costs one small write instead of two.
 */
export function encodeChunkHeader(type: ChunkTypeCode, blocks: number, dataSize: number, extra?: Uint8Array) {
  checkU32('chunk blocks', blocks);
  checkU32('chunk size', CHUNK_HEADER_SIZE + dataSize);
  const out = new Uint8Array(CHUNK_HEADER_SIZE + (extra?.byteLength ?? 0));
  const view = new DataView(out.buffer);
  view.setUint16(0, type, true);
  view.setUint32(4, blocks, true);
  view.setUint32(8, CHUNK_HEADER_SIZE + dataSize, true);
  if (extra) out.set(extra, CHUNK_HEADER_SIZE);
  return out;
}
