/** An unpacked Android image folder as an image source: its top-level regular files. */
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type AndroidImageSource, refuse } from './source-contract.js';

export async function openFolder(dir: string): Promise<AndroidImageSource> {
  const files = new Map<string, number>();
  const notes: string[] = [];
  for (const d of await fs.readdir(dir, { withFileTypes: true })) {
    if (d.isFile()) {
      const { size } = await fs.stat(join(dir, d.name));
      files.set(d.name, size);
    } else notes.push(`${d.name} is not a regular file (a folder or link); left aside.`);
  }
  return {
    description: dir,
    files,
    notes,
    open: (name) =>
      streamOf(name, files, () => createReadStream(join(dir, name), { highWaterMark: 1 << 20 })),
    head: (name, n) => headOf(name, n, files, (end) => createReadStream(join(dir, name), { start: 0, end })),
    close: async () => {},
  };
}

async function* streamOf(
  name: string,
  files: ReadonlyMap<string, number>,
  make: () => AsyncIterable<Buffer>,
): AsyncIterable<Buffer> {
  const size = files.get(name);
  if (size === undefined) throw refuse(`There is no ${name}.`, 'missing_file');
  let n = 0;
  for await (const c of make()) {
    n += c.byteLength;
    yield c;
  }
  if (n !== size)
    throw refuse(`${name} changed while it was read (${n} bytes, listed as ${size}).`, 'changed');
}

async function headOf(
  name: string,
  n: number,
  files: ReadonlyMap<string, number>,
  make: (endInclusive: number) => AsyncIterable<Buffer>,
): Promise<Buffer> {
  const size = files.get(name);
  if (size === undefined) throw refuse(`There is no ${name}.`, 'missing_file');
  if (size === 0 || n === 0) return Buffer.alloc(0);
  const parts: Buffer[] = [];
  for await (const c of make(Math.min(n, size) - 1)) parts.push(c);
  return Buffer.concat(parts).subarray(0, n);
}
