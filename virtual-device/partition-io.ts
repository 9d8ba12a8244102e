/**
 * Partition writes and read-back hashing. Large sequential reads/writes (4 MiB) and native hashing keep the
 * CPU cost per byte low; the flash power-cut hook is checked once per block, not per byte.
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { CommandFailure } from './device-errors.js';

export const IO_BLOCK = 4 * 1024 * 1024;

/** What a partition writer needs from the device: the flash power-cut point. */
export interface FlashCutHook {
  cutOffset(stage: 'flash', from: number, to: number): number | null;
  firePowerCut(stage: 'flash'): never;
}

/**
 * Where a partition write lands: positional writes plus fsync. A partition file's FileHandle is one; a
 * logical partition maps positions through its extents in super (super-partition.ts).
 */
export interface BlockSink {
  write(buf: Buffer, offset: number, length: number, position: number): Promise<unknown>;
  sync(): Promise<void>;
}

/** Replace `dst`'s content with the first `size` bytes of `src`, then fsync; returns the SHA-256 of those bytes. */
export async function copyRaw(src: string, dst: string, size: number, hook: FlashCutHook): Promise<string> {
  const output = await fs.open(dst, 'w');
  try {
    return await copyRawTo(src, output, size, hook);
  } finally {
    await output.close();
  }
}

/** Write the first `size` bytes of `src` at offset 0 of `output`, then fsync; returns their SHA-256. */
export async function copyRawTo(
  src: string,
  output: BlockSink,
  size: number,
  hook: FlashCutHook,
): Promise<string> {
  const hash = createHash('sha256');
  const input = await fs.open(src, 'r');
  try {
    const buf = Buffer.allocUnsafe(Math.min(IO_BLOCK, Math.max(size, 1)));
    let done = 0;
    while (done < size) {
      const want = Math.min(buf.byteLength, size - done);
      const { bytesRead } = await input.read(buf, 0, want, done);
      if (bytesRead !== want) throw new Error(`download buffer ended at byte ${done + bytesRead} of ${size}`);
      const cut = hook.cutOffset('flash', done, done + want);
      if (cut !== null) {
        // Bytes before the cut reached storage; the cut itself happens before the fsync.
        await output.write(buf, 0, cut - done, done);
        hook.firePowerCut('flash');
      }
      hash.update(buf.subarray(0, want));
      await output.write(buf, 0, want, done);
      done += want;
    }
    await output.sync();
    return hash.digest('hex');
  } finally {
    await input.close();
  }
}

/**
 * copyRaw, then read back what landed on storage: the write (and so the slot) is valid only when this hash
 * matches what was sent. `name` is the partition, for the FAIL message.
 */
export async function copyRawVerified(
  src: string,
  dst: string,
  size: number,
  hook: FlashCutHook,
  name: string,
): Promise<void> {
  const expected = await copyRaw(src, dst, size, hook);
  const written = await sha256OfFile(dst);
  if (written !== expected) {
    throw new CommandFailure(`verification of ${name} failed: wrote ${written}, expected ${expected}`);
  }
}

/** SHA-256 (hex) of a file's whole content; an absent file hashes as empty. */
export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path, { highWaterMark: IO_BLOCK }))
      hash.update(chunk as Buffer);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  return hash.digest('hex');
}
