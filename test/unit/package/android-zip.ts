/** Small hand-built Android images (zips and folders) for the importer's tests. */
import { createWriteStream, promises as fs } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { androidBootImage } from '../../../main/package/android-image/boot.js';

export interface ZipEntrySpec {
  readonly name: string;
  readonly data: Buffer;
  readonly compress?: boolean;
  readonly zip64?: boolean;
}

export async function writeZip(path: string, entries: readonly ZipEntrySpec[], zip64 = false): Promise<void> {
  const zip = new yazl.ZipFile();
  const mtime = new Date('2026-01-01T00:00:00Z');
  for (const e of entries) {
    zip.addBuffer(e.data, e.name, {
      mtime,
      compress: e.compress ?? true,
      forceZip64Format: e.zip64 ?? zip64,
    });
  }
  zip.end({ forceZip64Format: zip64, comment: '' });
  await pipeline(zip.outputStream, createWriteStream(path));
}

/** A libsparse file header (28 bytes) announcing `totalBlocks` of `blockSize`, followed by no chunks. */
export function sparseHeader(totalBlocks: number, blockSize = 4096, chunks = 0): Buffer {
  const b = Buffer.alloc(28);
  b.writeUInt32LE(0xed26ff3a, 0);
  b.writeUInt16LE(1, 4);
  b.writeUInt16LE(0, 6);
  b.writeUInt16LE(28, 8);
  b.writeUInt16LE(12, 10);
  b.writeUInt32LE(blockSize, 12);
  b.writeUInt32LE(totalBlocks, 16);
  b.writeUInt32LE(chunks, 20);
  return b;
}

/** A whole sparse image of `blocks` DONT_CARE blocks (valid, tiny). */
export function sparseSkipImage(blocks: number, blockSize = 4096): Buffer {
  const chunk = Buffer.alloc(12);
  chunk.writeUInt16LE(0xcac3, 0);
  chunk.writeUInt32LE(blocks, 4);
  chunk.writeUInt32LE(12, 8);
  return Buffer.concat([sparseHeader(blocks, blockSize, 1), chunk]);
}

export const basicEntries = (over: Partial<Record<string, Buffer>> = {}): ZipEntrySpec[] => {
  const files: Record<string, Buffer> = {
    'android-info.txt': Buffer.from('require board=acme-phone\nrequire version-bootloader=1.0.0\n'),
    'boot.img': androidBootImage('2.1.0', 64 * 1024, '2026-10'),
    'dtbo.img': Buffer.alloc(8192, 7),
    'system.img': sparseSkipImage(64),
  };
  for (const [k, v] of Object.entries(over)) {
    if (v === undefined) delete files[k];
    else files[k] = v;
  }
  return Object.entries(files).map(([name, data]) => ({ name, data }));
};

export async function writeFolder(dir: string, entries: readonly ZipEntrySpec[]): Promise<void> {
  await fs.mkdir(dir, { recursive: true });
  for (const e of entries) await fs.writeFile(`${dir}/${e.name}`, e.data);
}
