/**
 * Flash an Android sparse image (in the download buffer) onto a partition file, in place: DONT_CARE keeps
 * the old bytes, which is what lets a client split one image into several sparse pieces. Parsing and CRC32
 * checks are the shared decoder's (main/protocol/fastboot/sparse); this file only applies its operations,
 * coalescing contiguous data into large writes.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { decodeSparse } from '../main/protocol/fastboot/sparse/decoder.js';
import {
  FILE_HEADER_SIZE,
  isSparseHeader,
  parseSparseHeader,
  SparseFormatError,
} from '../main/protocol/fastboot/sparse/format.js';
import { CommandFailure } from './device-errors.js';
import { type BlockSink, type FlashCutHook, IO_BLOCK } from './partition-io.js';

/** The expanded size when the file is a sparse image, null when it is raw. */
export async function isSparseImage(path: string): Promise<{ expandedSize: number } | null> {
  const h = await fs.open(path, 'r');
  let head: Buffer;
  try {
    const { buffer, bytesRead } = await h.read(Buffer.alloc(FILE_HEADER_SIZE), 0, FILE_HEADER_SIZE, 0);
    head = buffer.subarray(0, bytesRead);
  } finally {
    await h.close();
  }
  if (!isSparseHeader(head)) return null;
  try {
    const header = parseSparseHeader(head);
    return { expandedSize: header.totalBlocks * header.blockSize };
  } catch (err) {
    throw new CommandFailure(`invalid sparse image: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Apply a sparse image to a partition file; the file ends at the expanded size. */
export async function writeSparse(src: string, dst: string, hook: FlashCutHook): Promise<void> {
  const out = await fs.open(dst, 'a+').then(async (h) => {
    await h.close();
    return fs.open(dst, 'r+');
  });
  try {
    const expanded = await writeSparseTo(src, out, hook);
    await out.truncate(expanded);
    await out.sync();
  } finally {
    await out.close();
  }
}

/** Apply a sparse image at offset 0 of `out` (DONT_CARE keeps the old bytes), fsync; returns the expanded size. */
export async function writeSparseTo(src: string, out: BlockSink, hook: FlashCutHook): Promise<number> {
  const stage = Buffer.allocUnsafe(IO_BLOCK);
  let stageStart = 0;
  let staged = 0;
  const flush = async () => {
    if (staged > 0) await out.write(stage, 0, staged, stageStart);
    staged = 0;
  };
  const checkCut = async (from: number, to: number) => {
    if (hook.cutOffset('flash', from, to) !== null) {
      await flush();
      hook.firePowerCut('flash');
    }
  };
  try {
    const ops = decodeSparse(createReadStream(src, { highWaterMark: IO_BLOCK }));
    let result = await ops.next();
    while (!result.done) {
      const op = result.value;
      if (op.kind === 'data') {
        await checkCut(op.offset, op.offset + op.bytes.byteLength);
        let offset = 0;
        while (offset < op.bytes.byteLength) {
          if (staged > 0 && stageStart + staged !== op.offset + offset) await flush();
          if (staged === 0) stageStart = op.offset + offset;
          const take = Math.min(IO_BLOCK - staged, op.bytes.byteLength - offset);
          stage.set(op.bytes.subarray(offset, offset + take), staged);
          staged += take;
          offset += take;
          if (staged === IO_BLOCK) await flush();
        }
      } else if (op.kind === 'fill') {
        await checkCut(op.offset, op.offset + op.length);
        await flush();
        const pattern = Buffer.alloc(Math.min(IO_BLOCK, op.length), Buffer.from(op.value));
        for (let done = 0; done < op.length; ) {
          const n = Math.min(pattern.byteLength, op.length - done);
          await out.write(pattern, 0, n, op.offset + done);
          done += n;
        }
      }
      result = await ops.next();
    }
    await flush();
    await out.sync();
    return result.value.header.totalBlocks * result.value.header.blockSize;
  } catch (err) {
    if (err instanceof SparseFormatError) throw new CommandFailure(`invalid sparse image: ${err.message}`);
    throw err;
  }
}
