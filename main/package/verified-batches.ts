/**
 * Image bytes released only once verified, with the hashing spread over the worker pool (hash-pool.ts):
 * the image is read in batches of whole blocks into a small ring of shared slots, several batches are
 * hashed at once, and they are released strictly in order. A batch is released only when every block in
 * it matches the signed block list; the first bad block stops the stream and nothing from it or after it
 * is released. Memory: the ring (at most WINDOW_BYTES, less when many streams run) whatever the image size.
 *
 * No whole-image SHA-256 is computed here: the signed manifest fixes the image size and the hash of the
 * block list, the block list fixes the hash of every block, and the block count follows from the size, so
 * every byte is already proven (docs/package-format.md, "Why the block list is enough").
 */
import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { type CheckResult, type HashPool, sharedHashPool } from './hash-pool.js';
import { mismatch } from './image-stream.js';
import type { ManifestImage } from './manifest.js';

/** Bytes per batch handed to a worker: large enough that messaging costs nothing, small for memory. */
const BATCH_TARGET = 1024 * 1024;
/** Bytes a worker verifies to nowhere per task (verifyFileRange): ~15 ms of hashing, no hop per MiB. */
const RANGE_BYTES = 16 * 1024 * 1024;
/** Upper bound of the ring of slots one stream reads ahead into. */
const WINDOW_BYTES = 16 * 1024 * 1024;
/**
 * Read-ahead shared by all streams at once: with many devices flashing, the pool is busy anyway and a deep
 * ring per stream would only cost memory, so each new stream gets its share (never fewer than 2 slots).
 */
const SHARED_BYTES = 32 * 1024 * 1024;
let openStreams = 0;

/** Whole blocks per batch, about BATCH_TARGET bytes and at least one block. */
export function batchBytes(blockSize: number): number {
  return Math.max(1, Math.floor(BATCH_TARGET / blockSize)) * blockSize;
}

/** Where a batch of `length` bytes lies in an open file, for the worker to read it itself. */
export interface FileRange {
  readonly fd: number;
  readonly position: number;
  readonly length: number;
}

/** Where batches come from. */
export interface BatchReader {
  /**
   * Either fill `into` from the start with the next bytes of the image and return how many (0 at the
   * end), or return the range of a file that holds them for the worker to read into the slot. Every
   * batch but the last is a full slot, so batches hold whole blocks.
   */
  next(into: Buffer): Promise<number | FileRange>;
  /** Release the source (called once, also when the stream stops early, after nothing is in flight). */
  close(): Promise<void>;
}

/** `size` bytes at `offset` of a file, read by the workers straight into the slots. */
export function fileBatches(path: string, offset: number, size: number): BatchReader {
  let handle: FileHandle | undefined;
  let pos = 0;
  return {
    async next(into) {
      const length = Math.min(into.byteLength, size - pos);
      if (length === 0) return 0;
      handle ??= await fs.open(path, 'r');
      const range = { fd: handle.fd, position: offset + pos, length };
      pos += length;
      return range;
    },
    async close() {
      await handle?.close();
    },
  };
}

/** Copy a stream of chunks (e.g. decrypted blocks) into the slots. */
export function streamBatches(source: AsyncIterable<Buffer>): BatchReader {
  const it = source[Symbol.asyncIterator]();
  let rest: Buffer | undefined;
  return {
    async next(into) {
      let fill = 0;
      while (fill < into.byteLength) {
        if (!rest || rest.byteLength === 0) {
          const r = await it.next();
          if (r.done) break;
          rest = r.value;
        }
        const n = rest.copy(into, fill);
        fill += n;
        rest = rest.subarray(n);
      }
      return fill;
    },
    async close() {
      await it.return?.();
    },
  };
}

export interface VerifyBatchesOptions {
  readonly signal?: AbortSignal | undefined;
  /** The pool to hash on (default: the process-wide one). */
  readonly pool?: HashPool;
}

interface InFlight {
  readonly first: number;
  readonly slot: Buffer;
  readonly length: number;
  readonly result: Promise<CheckResult>;
}

/**
 * Yield the image's verified bytes in order, batch by batch, and check the exact size. Each yielded
 * buffer is a view of a ring slot, valid only until the generator is resumed: a consumer that keeps
 * bytes copies them (openImage does). Errors come in stream order: a bad block is reported before a
 * later read failure, as a sequential check would.
 */
export async function* verifiedBatches(
  source: BatchReader,
  img: ManifestImage,
  blockList: Buffer,
  options: VerifyBatchesOptions = {},
): AsyncGenerator<Buffer> {
  const pool = options.pool ?? sharedHashPool();
  const batch = batchBytes(img.blockSize);
  const share = Math.floor(SHARED_BYTES / (openStreams + 1) / batch);
  const slots = Math.max(2, Math.min(pool.size * 2 + 1, Math.floor(WINDOW_BYTES / batch), share));
  // Only as many slots as the image needs: small images stay small.
  const ring = Math.min(slots, Math.max(1, Math.ceil(img.size / batch)));
  const arena = pool.lease(ring * batch);
  const free: Buffer[] = Array.from({ length: ring }, (_, i) => Buffer.from(arena.memory, i * batch, batch));
  const inFlight: InFlight[] = [];
  let sourceError: unknown;
  let ended = false;
  let index = 0;
  let done = 0;
  openStreams++;
  try {
    for (;;) {
      options.signal?.throwIfAborted(); // cancelled: stop now, release nothing more
      while (!ended && sourceError === undefined && free.length > 0) {
        try {
          const slot = free.shift()!;
          const got = await source.next(slot);
          const length = typeof got === 'number' ? got : got.length;
          if (length === 0) {
            free.push(slot);
            ended = true;
            break;
          }
          done += length;
          if (done > img.size) throw mismatch(img, `has more than ${img.size} bytes`, { size: img.size });
          const count = Math.ceil(length / img.blockSize);
          const result = pool.check({
            arena: arena.id,
            offset: slot.byteOffset,
            length,
            blockSize: img.blockSize,
            expected: new Uint8Array(blockList.subarray(index * 32, (index + count) * 32)),
            ...(typeof got === 'number' ? {} : { read: { fd: got.fd, position: got.position } }),
          });
          result.catch(() => {}); // settled below, in order
          inFlight.push({ first: index, slot, length, result });
          index += count;
        } catch (err) {
          sourceError = err;
        }
      }
      const head = inFlight[0];
      if (!head) break;
      const { bad, got } = await head.result;
      options.signal?.throwIfAborted();
      if (got < head.length) throw mismatch(img, 'is truncated in the package file', {});
      if (bad >= 0) {
        const block = head.first + bad;
        throw mismatch(img, `block ${block} (offset ${block * img.blockSize}) is wrong`, { block });
      }
      yield head.slot.subarray(0, head.length);
      inFlight.shift();
      free.push(head.slot);
    }
    if (sourceError !== undefined) throw sourceError;
    if (done !== img.size)
      throw mismatch(img, `is ${done} bytes instead of ${img.size}`, { size: img.size, got: done });
  } finally {
    // Nothing in flight is released; wait so no worker still reads a slot when the stream is gone.
    openStreams--;
    await Promise.allSettled(inFlight.map((f) => f.result));
    pool.release(arena);
    await source.close();
  }
}

/**
 * Verify `img.size` bytes at `offset` of a file to nowhere (verifyPackage): ranges read and hashed
 * entirely inside the workers, several at once, results taken in order so the first bad block is the one
 * reported. Nothing is released, so no slot ring and no main-thread hop per batch is needed: on a busy
 * machine those hops, not the hashing, held verification back.
 */
export async function verifyFileRange(
  path: string,
  offset: number,
  img: ManifestImage,
  blockList: Buffer,
  options: Omit<VerifyBatchesOptions, 'own'> = {},
): Promise<void> {
  const pool = options.pool ?? sharedHashPool();
  const piece = batchBytes(img.blockSize);
  const range = Math.max(1, Math.floor(RANGE_BYTES / piece)) * piece;
  const inFlight: { first: number; length: number; result: Promise<CheckResult> }[] = [];
  const handle = await fs.open(path, 'r');
  let pos = 0;
  try {
    while (pos < img.size || inFlight.length > 0) {
      options.signal?.throwIfAborted();
      while (pos < img.size && inFlight.length < pool.size * 2) {
        const length = Math.min(range, img.size - pos);
        const first = pos / img.blockSize;
        const count = Math.ceil(length / img.blockSize);
        const result = pool.check({
          length,
          blockSize: img.blockSize,
          piece,
          expected: new Uint8Array(blockList.subarray(first * 32, (first + count) * 32)),
          read: { fd: handle.fd, position: offset + pos },
        });
        result.catch(() => {}); // settled below, in order
        inFlight.push({ first, length, result });
        pos += length;
      }
      const head = inFlight[0]!;
      const { bad, got } = await head.result;
      inFlight.shift();
      if (bad >= 0) {
        const block = head.first + bad;
        throw mismatch(img, `block ${block} (offset ${block * img.blockSize}) is wrong`, { block });
      }
      if (got < head.length) throw mismatch(img, 'is truncated in the package file', {});
    }
  } finally {
    await Promise.allSettled(inFlight.map((f) => f.result));
    await handle.close();
  }
}
