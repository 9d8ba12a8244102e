/**
 * Read a file as large chunks from two buffers used in turn, reading the next chunk while the consumer
 * handles the current one. No buffer is allocated per chunk, so a multi-GiB read creates no garbage (a fresh
 * 1 MiB Buffer per chunk cost ~1 s of GC per GiB in the fastboot benchmark, docs/benchmarks.md).
 *
 * Contract (the same as ByteReader.slices): a chunk is valid until the consumer pulls the next one; its
 * memory is then refilled. Consumers that keep bytes past the next pull must copy them. The fastboot
 * senders honour it: the framed transport releases each chunk to the OS (`writeReleased`) before it pulls
 * the next. Hand-written because node:fs read streams allocate a buffer per chunk and offer no reuse.
 */
import { open } from 'node:fs/promises';

export const FILE_CHUNK_SIZE = 4 * 1024 * 1024;

export interface FileChunkOptions {
  /** First byte (default 0). */
  readonly start?: number;
  /** Bytes to read from `start` (default: to the end of the file as it is when opened). */
  readonly length?: number;
  readonly chunkSize?: number;
  readonly signal?: AbortSignal;
}

export async function* readFileChunks(
  path: string,
  options: FileChunkOptions = {},
): AsyncGenerator<Uint8Array, void, undefined> {
  const chunkSize = options.chunkSize ?? FILE_CHUNK_SIZE;
  const file = await open(path, 'r');
  let pending: Promise<{ bytesRead: number }> | undefined;
  try {
    const start = options.start ?? 0;
    const end = start + (options.length ?? (await file.stat()).size - start);
    const buffers = [Buffer.allocUnsafeSlow(chunkSize), Buffer.allocUnsafeSlow(chunkSize)];
    const readAt = (turn: number, at: number) =>
      file.read(buffers[turn % 2]!, 0, Math.min(chunkSize, end - at), at);
    let at = start;
    let turn = 0;
    pending = at < end ? readAt(turn, at) : undefined;
    while (pending) {
      const { bytesRead } = await pending;
      pending = undefined;
      options.signal?.throwIfAborted();
      if (bytesRead === 0) throw new Error(`${path} ended at byte ${at}, before byte ${end}`);
      const chunk = buffers[turn % 2]!.subarray(0, bytesRead);
      at += bytesRead;
      turn++;
      // The other buffer held the chunk before this one, which the consumer released by pulling again.
      if (at < end) pending = readAt(turn, at);
      yield chunk;
    }
  } finally {
    await pending?.catch(() => undefined);
    await file.close();
  }
}
