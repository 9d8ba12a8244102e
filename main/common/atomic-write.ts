/**
 * Every file Flashline writes goes through here: write to a temp file in the same directory, fsync it,
 * rename over the final name, fsync the directory. A crash at any point leaves the old file or the new one,
 * never a partial file under the final name. Before writing, free space is checked so a full disk is a clear
 * error instead of a truncated file.
 */
import { randomBytes } from 'node:crypto';
import { constants, createWriteStream, promises as fs } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { FlashlineError } from './errors.js';

export interface AtomicWriteOptions {
  /** File mode for the new file (e.g. 0o600 for private keys). */
  readonly mode?: number;
  /** Expected size in bytes, checked against free space before writing (known for buffers). */
  readonly expectedSize?: number;
  readonly signal?: AbortSignal;
}

/** Free bytes available to this user on the filesystem holding `dir`. */
export async function freeSpace(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return Number(s.bavail) * Number(s.bsize);
}

export async function ensureFreeSpace(dir: string, bytes: number): Promise<void> {
  const free = await freeSpace(dir);
  // Keep a small reserve so metadata and the directory fsync never hit ENOSPC.
  const reserve = 1024 * 1024;
  if (bytes + reserve > free) {
    throw new FlashlineError(
      'insufficient_disk_space',
      `Not enough free disk space in ${dir}: need ${bytes} bytes, ${free} available. Free some space and retry.`,
      { dir, need: bytes, free },
    );
  }
}

/** fsync a directory, so a file created or renamed in it survives a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Atomically replace `path` with `data`. `data` may be a string, bytes or a stream of bytes
 * (streams are never buffered whole).
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array | AsyncIterable<Uint8Array> | Readable,
  options: AtomicWriteOptions = {},
): Promise<void> {
  const dir = dirname(path);
  await fs.mkdir(dir, { recursive: true });
  const size =
    typeof data === 'string'
      ? Buffer.byteLength(data)
      : data instanceof Uint8Array
        ? data.byteLength
        : options.expectedSize;
  if (size !== undefined) await ensureFreeSpace(dir, size);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const mode = options.mode ?? 0o644;
  let ok = false;
  try {
    if (typeof data === 'string' || data instanceof Uint8Array) {
      await fs.writeFile(tmp, data, { flag: 'wx', mode });
    } else {
      const source = data instanceof Readable ? data : Readable.from(data);
      const sink = createWriteStream(tmp, { flags: 'wx', mode });
      await pipeline(source, sink, options.signal ? { signal: options.signal } : {});
    }
    const handle = await fs.open(tmp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    ok = true;
  } finally {
    if (!ok) await fs.rm(tmp, { force: true });
  }
  try {
    await fs.rename(tmp, path);
  } catch (err) {
    await fs.rm(tmp, { force: true });
    throw err;
  }
  if (options.mode !== undefined) await fs.chmod(path, options.mode);
  await fsyncDir(dir);
}

/** Atomically write a JSON document (pretty-printed, trailing newline). */
export async function writeJsonAtomic(
  path: string,
  value: unknown,
  options: AtomicWriteOptions = {},
): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(value, null, 2)}\n`, options);
}
