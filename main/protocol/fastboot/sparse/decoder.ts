/**
 * Streaming sparse decoder: one pass over the sparse bytes, yielding write operations on the expanded
 * image. Validation follows libsparse's reader (sparse_read.cpp) and is stricter where libsparse would
 * silently accept an inconsistent file (chunks past total_blks, trailing bytes, CRC chunk with blocks).
 */
import { ByteReader, type ByteSource } from './byte-reader.js';
import { crc32, crc32ExtendPattern, crc32ExtendZeros } from './crc32.js';
import {
  CHUNK_HEADER_SIZE,
  CHUNK_TYPE,
  CRC_DATA_SIZE,
  FILE_HEADER_SIZE,
  FILL_DATA_SIZE,
  parseChunkHeader,
  parseSparseHeader,
  SparseFormatError,
  type SparseHeader,
} from './format.js';

/** One write operation on the expanded image; offsets and lengths are in bytes of the expanded image. */
export type SparseOp =
  /** Write `bytes` at `offset`. `bytes` is a subarray of the input: copy it if you keep it. */
  | { readonly kind: 'data'; readonly offset: number; readonly bytes: Uint8Array }
  /** Fill `length` bytes at `offset` with the 4-byte `value` repeated (value[0] lands on offset). */
  | { readonly kind: 'fill'; readonly offset: number; readonly length: number; readonly value: Uint8Array }
  /** DONT_CARE: leave `length` bytes at `offset` as they are. */
  | { readonly kind: 'skip'; readonly offset: number; readonly length: number };

/** One chunk as found in the input, reported before its operations. */
export interface SparseChunkInfo {
  readonly index: number;
  readonly type: 'raw' | 'fill' | 'skip' | 'crc32';
  /** First output block and block count (0 for CRC32). */
  readonly startBlock: number;
  readonly blocks: number;
  /** Byte offset of the chunk header in the input. */
  readonly inputOffset: number;
  /** FILL pattern (4 bytes), only for fill chunks. */
  readonly value?: Uint8Array;
}

export interface DecodeOptions {
  readonly signal?: AbortSignal;
  /** Called once, after the file header is validated and before any operation (throw to refuse). */
  readonly onHeader?: (header: SparseHeader) => void;
  /** Called for every chunk header (CRC32 chunks included) before its operations. */
  readonly onChunk?: (chunk: SparseChunkInfo) => void;
  /** Keep a running CRC and check it against CRC32 chunks (default true, as libsparse). */
  readonly verifyCrc?: boolean;
  /** Also check the header's image_checksum at the end when it is non-zero (default false: libsparse ignores it). */
  readonly verifyImageChecksum?: boolean;
}

export interface DecodeSummary {
  readonly header: SparseHeader;
  /** CRC32 of the expanded image (DONT_CARE as zeros), when CRC was tracked. */
  readonly crc32: number | undefined;
  readonly inputBytes: number;
}

/**
 * Decode a sparse image from a one-pass stream. Yields operations in increasing offset order that together
 * cover exactly `totalBlocks * blockSize` bytes; throws {@link SparseFormatError} on anything malformed,
 * before yielding an operation that would fall outside the declared image.
 */
export async function* decodeSparse(
  source: ByteSource,
  options: DecodeOptions = {},
): AsyncGenerator<SparseOp, DecodeSummary, undefined> {
  const reader = new ByteReader(source, options.signal);
  try {
    return yield* decodeFromReader(reader, options);
  } finally {
    await reader.close();
  }
}

function truncated(what: string, reader: ByteReader, chunk?: number): SparseFormatError {
  return new SparseFormatError(
    `sparse image truncated in ${what} at byte ${reader.offset}; the file or download is incomplete`,
    chunk === undefined ? { inputOffset: reader.offset } : { inputOffset: reader.offset, chunk },
  );
}

/** @internal the decoder over an existing reader, so the piece emitter can share it. */
export async function* decodeFromReader(
  reader: ByteReader,
  options: DecodeOptions,
): AsyncGenerator<SparseOp, DecodeSummary, undefined> {
  const verifyCrc = options.verifyCrc ?? true;
  const headerBytes = await reader.readUpTo(FILE_HEADER_SIZE);
  if (headerBytes.byteLength === 0) {
    throw new SparseFormatError('sparse image is empty (0 bytes)', { inputOffset: 0 });
  }
  const header = parseSparseHeader(headerBytes);
  const extraFileHeader = header.fileHeaderSize - FILE_HEADER_SIZE;
  if ((await reader.skip(extraFileHeader)) !== extraFileHeader) throw truncated('the file header', reader);
  options.onHeader?.(header);

  const bs = header.blockSize;
  const extraChunkHeader = header.chunkHeaderSize - CHUNK_HEADER_SIZE;
  let block = 0;
  let crc = 0;
  for (let index = 0; index < header.totalChunks; index++) {
    const at = reader.offset;
    const fail = (msg: string) =>
      new SparseFormatError(`chunk ${index} at byte ${at}: ${msg}`, { inputOffset: at, chunk: index });
    const hb = await reader.readUpTo(CHUNK_HEADER_SIZE);
    if (hb.byteLength < CHUNK_HEADER_SIZE) {
      throw truncated(`the header of chunk ${index} of ${header.totalChunks}`, reader, index);
    }
    const ch = parseChunkHeader(hb);
    if ((await reader.skip(extraChunkHeader)) !== extraChunkHeader) {
      throw truncated(`the header of chunk ${index}`, reader, index);
    }
    if (ch.totalSize < header.chunkHeaderSize) {
      throw fail(`total size ${ch.totalSize} is smaller than the chunk header (${header.chunkHeaderSize})`);
    }
    const dataSize = ch.totalSize - header.chunkHeaderSize;
    const offset = block * bs;
    if (ch.type !== CHUNK_TYPE.crc32 && ch.blocks > header.totalBlocks - block) {
      throw fail(
        `${ch.blocks} blocks starting at block ${block} run past the image's ${header.totalBlocks} blocks`,
      );
    }
    const length = ch.blocks * bs;
    switch (ch.type) {
      case CHUNK_TYPE.raw: {
        if (dataSize !== length) {
          throw fail(`RAW chunk of ${ch.blocks} blocks carries ${dataSize} data bytes, expected ${length}`);
        }
        options.onChunk?.({ index, type: 'raw', startBlock: block, blocks: ch.blocks, inputOffset: at });
        let pos = offset;
        for await (const bytes of reader.slices(length)) {
          if (verifyCrc) crc = crc32(bytes, crc);
          yield { kind: 'data', offset: pos, bytes };
          pos += bytes.byteLength;
        }
        if (pos !== offset + length) throw truncated(`the data of chunk ${index}`, reader, index);
        break;
      }
      case CHUNK_TYPE.fill: {
        if (dataSize !== FILL_DATA_SIZE) {
          throw fail(`FILL chunk carries ${dataSize} data bytes, expected ${FILL_DATA_SIZE}`);
        }
        const got = await reader.readUpTo(FILL_DATA_SIZE);
        if (got.byteLength < FILL_DATA_SIZE)
          throw truncated(`the fill value of chunk ${index}`, reader, index);
        // A real copy: Buffer#slice would be a view pinning the whole source chunk for as long as it lives.
        const value = new Uint8Array(got);
        options.onChunk?.({
          index,
          type: 'fill',
          startBlock: block,
          blocks: ch.blocks,
          inputOffset: at,
          value,
        });
        if (verifyCrc) crc = crc32ExtendPattern(crc, value, length);
        if (length > 0) yield { kind: 'fill', offset, length, value };
        break;
      }
      case CHUNK_TYPE.dontCare: {
        if (dataSize !== 0) throw fail(`DONT_CARE chunk carries ${dataSize} data bytes, expected 0`);
        options.onChunk?.({ index, type: 'skip', startBlock: block, blocks: ch.blocks, inputOffset: at });
        if (verifyCrc) crc = crc32ExtendZeros(crc, length);
        if (length > 0) yield { kind: 'skip', offset, length };
        break;
      }
      case CHUNK_TYPE.crc32: {
        if (dataSize !== CRC_DATA_SIZE) {
          throw fail(`CRC32 chunk carries ${dataSize} data bytes, expected ${CRC_DATA_SIZE}`);
        }
        if (ch.blocks !== 0) throw fail(`CRC32 chunk claims ${ch.blocks} blocks, expected 0`);
        const got = await reader.readUpTo(CRC_DATA_SIZE);
        if (got.byteLength < CRC_DATA_SIZE) throw truncated(`the CRC of chunk ${index}`, reader, index);
        options.onChunk?.({ index, type: 'crc32', startBlock: block, blocks: 0, inputOffset: at });
        const expected = new DataView(got.buffer, got.byteOffset, 4).getUint32(0, true);
        if (verifyCrc && expected !== crc) {
          throw fail(
            `CRC32 mismatch: the image so far has 0x${hex(crc)}, the chunk says 0x${hex(expected)}; the image is corrupt`,
          );
        }
        break;
      }
      default:
        throw fail(
          `unknown chunk type 0x${ch.type.toString(16)}; the image is corrupt or not a sparse image`,
        );
    }
    if (ch.type !== CHUNK_TYPE.crc32) block += ch.blocks;
  }
  if (block !== header.totalBlocks) {
    throw new SparseFormatError(
      `sparse chunks cover ${block} blocks but the header declares ${header.totalBlocks}; the image is corrupt`,
      { inputOffset: reader.offset },
    );
  }
  if (!(await reader.atEnd())) {
    throw new SparseFormatError(
      `unexpected bytes after the last of ${header.totalChunks} chunks at byte ${reader.offset}; the chunk count is wrong or the file is corrupt`,
      { inputOffset: reader.offset },
    );
  }
  if (
    verifyCrc &&
    options.verifyImageChecksum &&
    header.imageChecksum !== 0 &&
    header.imageChecksum !== crc
  ) {
    throw new SparseFormatError(
      `image checksum mismatch: expanded image has 0x${hex(crc)}, the header says 0x${hex(header.imageChecksum)}`,
      { inputOffset: 24 },
    );
  }
  return { header, crc32: verifyCrc ? crc : undefined, inputBytes: reader.offset };
}

function hex(n: number): string {
  return n.toString(16).padStart(8, '0');
}
