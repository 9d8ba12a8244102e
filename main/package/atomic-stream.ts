/**
 * Streamed atomic file write (temp file in the same directory → fsync → rename → fsync directory), with the
 * free-space check from main/common/atomic-write.ts.
 * Why this exists: writeFileAtomic's stream branch currently never settles (FileHandle.close() waits for the
 * WriteStream created with autoClose:false, which is never destroyed). Until that is fixed in
 * main/common/atomic-write.ts (destroy the sink after the pipeline), packages are written through this path;
 * small files still go through writeFileAtomic.
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { ensureFreeSpace } from '../common/atomic-write.js';

export async function writeStreamAtomic(
  path: string,
  data: AsyncIterable<Uint8Array>,
  options: { expectedSize?: number; mode?: number; signal?: AbortSignal } = {},
): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  if (options.expectedSize !== undefined) await ensureFreeSpace(dir, options.expectedSize);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let ok = false;
  try {
    const sink = createWriteStream(tmp, { flags: 'wx', mode: options.mode ?? 0o644 });
    await pipeline(Readable.from(data), sink, ...(options.signal ? [{ signal: options.signal }] : []));
    const h = await fs.open(tmp, 'r+');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    await fs.rename(tmp, path);
    ok = true;
  } finally {
    if (!ok) await fs.rm(tmp, { force: true });
  }
  const d = await fs.open(dir, constants.O_RDONLY);
  try {
    await d.sync();
  } finally {
    await d.close();
  }
}
