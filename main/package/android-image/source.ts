/**
 * Where an Android factory/update image's files come from: a zip (read with yauzl: central directory,
 * zip64, entry names validated, sizes validated, each entry streamed and its CRC-32 checked) or an unpacked
 * folder. Only the top level counts, as for `fastboot update`. Nothing is read whole: an entry is opened as
 * a stream each time it is needed (the packer reads an image twice: hash pass, write pass).
 *
 * Google's factory images nest the update zip: `<product>-<build>/image-<product>-<build>.zip` inside an
 * outer zip that also holds the bootloader and radio images and flash-all.sh. When the outer zip stores that
 * inner zip uncompressed (as it does: a zip of zips gains nothing from deflate), the inner zip is read in
 * place through a window on the outer file; when it is compressed, the refusal names the file to extract.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { FlashlineError } from '../../common/errors.js';
import { PKG, pkgError } from '../codes.js';

/** Entries a factory image could plausibly hold; more is not an Android image. */
export const MAX_ZIP_ENTRIES = 4096;
/** Largest image accepted (a whole super of a large phone is ~10 GiB; 1 TiB is beyond any partition). */
export const MAX_IMAGE_BYTES = 2 ** 40;

export interface AndroidImageSource {
  /** For messages: the zip, `outer.zip › image-….zip`, or the folder. */
  readonly description: string;
  /** Top-level file name → uncompressed size. */
  readonly files: ReadonlyMap<string, number>;
  /** What was seen and left aside (sub-folders, bootloader/radio images of a factory zip). */
  readonly notes: readonly string[];
  /** The file's bytes, validated (size and, in a zip, CRC-32) as they stream. */
  open(name: string): AsyncIterable<Buffer>;
  /** The first `n` bytes (fewer when the file is shorter). */
  head(name: string, n: number): Promise<Buffer>;
  close(): Promise<void>;
}

export const refuse = (
  message: string,
  reason: string,
  detail: Record<string, unknown> = {},
): FlashlineError => pkgError(PKG.malformed, message, { reason, ...detail });

/** Open a zip file or a folder. */
export async function openAndroidImage(path: string): Promise<AndroidImageSource> {
  const st = await fs.stat(path).catch(() => {
    throw new FlashlineError('bad_input', `${path} cannot be read: no such file or folder.`, {
      reason: 'not_found',
    });
  });
  if (st.isDirectory()) return openFolder(path);
  if (!st.isFile())
    throw new FlashlineError('bad_input', `${path} is not a file or folder.`, { reason: 'not_a_file' });
  return openZip(path, st.size);
}

// ---- folder ----

async function openFolder(dir: string): Promise<AndroidImageSource> {
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

// ---- zip ----

type ZipFile = yauzl.ZipFile;
type Entry = yauzl.Entry;

/** yauzl's words → a technician's. */
function zipFailure(where: string, err: unknown): FlashlineError {
  const msg = err instanceof Error ? err.message : String(err);
  const name = /^(?:invalid relative path|absolute path|invalid characters in fileName): (.*)$/.exec(msg);
  if (name) {
    return refuse(
      `${where} holds an entry named '${name[1]}' that points outside the folder it is unpacked into (path traversal). A genuine Android image never does; do not use this file.`,
      'path_traversal',
      { entry: name[1], library: msg },
    );
  }
  return refuse(
    `${where} is not a readable zip: it is truncated or damaged (${msg}). Download or copy it again.`,
    'bad_zip',
    { library: msg },
  );
}

function openZipFile(
  open: (cb: (err: Error | null, zip: ZipFile) => void) => void,
  where: string,
): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    open((err, zip) => (err ? reject(zipFailure(where, err)) : resolve(zip)));
  });
}

const ZIP_OPTIONS: yauzl.Options = {
  lazyEntries: true,
  autoClose: false,
  decodeStrings: true,
  validateEntrySizes: true,
  strictFileNames: true,
};

async function listEntries(zip: ZipFile, where: string): Promise<Entry[]> {
  if (zip.entryCount > MAX_ZIP_ENTRIES) {
    throw refuse(
      `${where} lists ${zip.entryCount} files; an Android image holds a few dozen (at most ${MAX_ZIP_ENTRIES} accepted). This is not an Android factory image.`,
      'too_many_entries',
    );
  }
  return new Promise((resolve, reject) => {
    const entries: Entry[] = [];
    zip.on('entry', (e: Entry) => {
      entries.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', (err) => reject(zipFailure(where, err)));
    zip.readEntry();
  });
}

/** A window [base, base+size) of a file, as yauzl's random access reader (a stored zip inside a zip). */
class FileWindow extends yauzl.RandomAccessReader {
  constructor(
    private readonly path: string,
    private readonly base: number,
  ) {
    super();
  }
  override _readStreamForRange(start: number, end: number): Readable {
    if (end <= start) {
      const empty = new PassThrough();
      empty.end();
      return empty;
    }
    return createReadStream(this.path, { start: this.base + start, end: this.base + end - 1 });
  }
  override close(cb: (err: Error | null) => void): void {
    cb(null);
  }
}

async function openZip(path: string, fileSize: number): Promise<AndroidImageSource> {
  const outerName = basename(path);
  const outer = await openZipFile((cb) => yauzl.open(path, ZIP_OPTIONS, cb), outerName);
  try {
    const entries = await listEntries(outer, outerName);
    const top = entries.filter((e) => !e.fileName.includes('/'));
    if (top.some((e) => e.fileName === 'android-info.txt')) return zipSource(outer, entries, outerName);
    const inner = entries.filter((e) => /^(?:[^/]+\/)?image-[^/]+\.zip$/.test(e.fileName));
    if (inner.length !== 1) {
      throw refuse(
        `${outerName} has no android-info.txt at its top level, so it is not an Android update image (the zip 'fastboot update' takes: android-info.txt, boot.img, super_empty.img, …)${inner.length > 1 ? `; it holds several image-*.zip files (${inner.map((e) => e.fileName).join(', ')}): pass the one for your device` : ''}.`,
        'no_android_info',
      );
    }
    const e = inner[0]!;
    const innerWhere = `${outerName} › ${e.fileName}`;
    if (e.compressionMethod !== 0 || e.isEncrypted()) {
      throw refuse(
        `${outerName} is a factory image whose update zip ${e.fileName} is compressed inside it; extract ${basename(e.fileName)} from it (unzip ${outerName} ${e.fileName}) and pass that file.`,
        'nested_compressed',
      );
    }
    const { fileDataStart } = await outer.readLocalFileHeaderPromise(e, { minimal: true });
    if (fileDataStart + e.compressedSize > fileSize)
      throw zipFailure(outerName, new Error('inner zip extends past the end of the file'));
    const notes = entries
      .filter((x) => x !== e && !x.fileName.endsWith('/'))
      .map(
        (x) =>
          `${x.fileName} (outside the update zip) is not packed; bootloader and radio images are flashed by their own packages.`,
      );
    outer.close();
    const reader = new FileWindow(path, fileDataStart);
    const innerZip = await openZipFile(
      (cb) => yauzl.fromRandomAccessReader(reader, e.uncompressedSize, ZIP_OPTIONS, cb),
      innerWhere,
    );
    const innerEntries = await listEntries(innerZip, innerWhere);
    if (!innerEntries.some((x) => x.fileName === 'android-info.txt')) {
      innerZip.close();
      throw refuse(
        `${innerWhere} has no android-info.txt at its top level; it is not an Android update image.`,
        'no_android_info',
      );
    }
    return zipSource(innerZip, innerEntries, innerWhere, notes);
  } catch (err) {
    if (outer.isOpen) outer.close();
    throw err;
  }
}

function zipSource(
  zip: ZipFile,
  entries: readonly Entry[],
  where: string,
  notes: string[] = [],
): AndroidImageSource {
  const byName = new Map<string, Entry>();
  const files = new Map<string, number>();
  for (const e of entries) {
    if (e.fileName.endsWith('/')) continue;
    if (e.fileName.includes('/')) {
      notes.push(
        `${e.fileName} is in a sub-folder; only the top level of an update zip is flashed. Left aside.`,
      );
      continue;
    }
    if (byName.has(e.fileName)) {
      throw refuse(
        `${where} holds ${e.fileName} twice; a genuine Android image never does.`,
        'duplicate_entry',
        {
          entry: e.fileName,
        },
      );
    }
    if (e.isEncrypted())
      throw refuse(`${where}: ${e.fileName} is encrypted; Android images never are.`, 'encrypted_entry');
    if (!e.canDecodeFileData()) {
      throw refuse(
        `${where}: ${e.fileName} uses zip compression method ${e.compressionMethod}, which Android images never use (stored or deflate).`,
        'unsupported_compression',
      );
    }
    if (e.uncompressedSize > MAX_IMAGE_BYTES) {
      throw refuse(
        `${where}: ${e.fileName} claims ${e.uncompressedSize} bytes, more than any partition (at most ${MAX_IMAGE_BYTES}). The zip is damaged or hostile.`,
        'absurd_size',
        { entry: e.fileName },
      );
    }
    byName.set(e.fileName, e);
    files.set(e.fileName, e.uncompressedSize);
  }
  const entryStream = async (name: string, end?: number): Promise<Readable> => {
    const e = byName.get(name);
    if (!e) throw refuse(`${where} has no ${name}.`, 'missing_file');
    try {
      return await zip.openReadStreamPromise(e, end !== undefined ? { start: 0, end } : {});
    } catch (err) {
      throw zipFailure(where, err);
    }
  };
  return {
    description: where,
    files,
    notes,
    async *open(name) {
      const e = byName.get(name);
      const stream = await entryStream(name);
      let crc = 0;
      try {
        for await (const c of stream as AsyncIterable<Buffer>) {
          crc = crc32(c, crc);
          yield c;
        }
      } catch (err) {
        throw zipFailure(`${where}: ${name}`, err);
      } finally {
        stream.destroy();
      }
      if (e && crc >>> 0 !== e.crc32 >>> 0) {
        throw refuse(
          `${where}: ${name} is damaged (its CRC-32 does not match the zip's directory). Download or copy the image again.`,
          'bad_crc',
          { entry: name },
        );
      }
    },
    async head(name, n) {
      const e = byName.get(name);
      if (!e) throw refuse(`${where} has no ${name}.`, 'missing_file');
      // A ranged read needs a stored entry; a deflated one is inflated from its start and cut.
      const stored = e.compressionMethod === 0;
      const stream = await entryStream(name, stored ? Math.min(n, e.uncompressedSize) : undefined);
      const parts: Buffer[] = [];
      let got = 0;
      try {
        for await (const c of stream as AsyncIterable<Buffer>) {
          parts.push(c);
          got += c.byteLength;
          if (got >= n) break;
        }
      } catch (err) {
        throw zipFailure(`${where}: ${name}`, err);
      } finally {
        stream.destroy();
      }
      return Buffer.concat(parts).subarray(0, n);
    },
    async close() {
      if (zip.isOpen) zip.close();
    },
  };
}
