/**
 * A streaming writer for the cpio "newc" format, gzip-compressed, as the Linux kernel unpacks an initramfs.
 *
 * Hand-written on purpose: the format is a 110-byte ASCII header per entry plus 4-byte padding, and no
 * maintained npm package writes newc (the popular ones only read it or write the old binary format). Writing it
 * here also spares CI a `cpio` install. Files are streamed from disk, so memory does not grow with the node
 * binary's size.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

export const CpioMode = {
  dir: 0o040000,
  file: 0o100000,
  symlink: 0o120000,
} as const;

export type CpioEntry =
  | { kind: 'dir'; path: string; mode?: number }
  | { kind: 'file'; path: string; source: string; mode?: number }
  | { kind: 'data'; path: string; data: Uint8Array; mode?: number }
  | { kind: 'symlink'; path: string; target: string };

function hex8(n: number): string {
  return n.toString(16).padStart(8, '0');
}

function header(ino: number, mode: number, size: number, name: string): Buffer {
  const nameBytes = Buffer.from(`${name}\0`, 'utf8');
  const fields = [
    '070701',
    hex8(ino),
    hex8(mode),
    hex8(0), // uid
    hex8(0), // gid
    hex8(1), // nlink
    hex8(0), // mtime: fixed, so the same inputs give the same archive
    hex8(size),
    hex8(0), // devmajor
    hex8(0), // devminor
    hex8(0), // rdevmajor
    hex8(0), // rdevminor
    hex8(nameBytes.length),
    hex8(0), // check
  ].join('');
  const head = Buffer.concat([Buffer.from(fields, 'ascii'), nameBytes]);
  return Buffer.concat([head, Buffer.alloc(pad4(head.length))]);
}

function pad4(n: number): number {
  return (4 - (n % 4)) % 4;
}

async function* archive(entries: readonly CpioEntry[]): AsyncGenerator<Buffer> {
  let ino = 1;
  for (const e of entries) {
    const name = e.path.replace(/^\/+/, '');
    if (name === '') continue;
    if (e.kind === 'dir') {
      yield header(ino++, CpioMode.dir | (e.mode ?? 0o755), 0, name);
    } else if (e.kind === 'symlink') {
      const body = Buffer.from(e.target, 'utf8');
      yield header(ino++, CpioMode.symlink | 0o777, body.length, name);
      yield body;
      yield Buffer.alloc(pad4(body.length));
    } else if (e.kind === 'data') {
      yield header(ino++, CpioMode.file | (e.mode ?? 0o644), e.data.length, name);
      yield Buffer.from(e.data);
      yield Buffer.alloc(pad4(e.data.length));
    } else {
      const st = await stat(e.source);
      const mode = e.mode ?? st.mode & 0o7777;
      yield header(ino++, CpioMode.file | mode, st.size, name);
      let written = 0;
      for await (const chunk of createReadStream(e.source)) {
        const buf = chunk as Buffer;
        written += buf.length;
        yield buf;
      }
      if (written !== st.size) throw new Error(`initramfs: ${e.source} changed size while being archived`);
      yield Buffer.alloc(pad4(st.size));
    }
  }
  yield header(ino, 0, 0, 'TRAILER!!!');
}

/** Writes `entries` as a gzip-compressed newc archive to `outPath`. Parent dirs must be listed before children. */
export async function writeCpioGz(entries: readonly CpioEntry[], outPath: string, level = 1): Promise<void> {
  await pipeline(Readable.from(archive(entries)), createGzip({ level }), createWriteStream(outPath));
}
