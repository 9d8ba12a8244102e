/**
 * An Android image zip as an image source, read with yauzl: central directory, zip64, entry names validated,
 * sizes validated, each entry streamed and its CRC-32 checked. A factory zip's inner update zip is read in
 * place through a window on the outer file when it is stored uncompressed.
 */
import { createReadStream } from 'node:fs';
import { basename } from 'node:path';
import { PassThrough, type Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import type { FlashlineError } from '../../common/errors.js';
import { type AndroidImageSource, MAX_IMAGE_BYTES, MAX_ZIP_ENTRIES, refuse } from './source-contract.js';

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

export async function openZip(path: string, fileSize: number): Promise<AndroidImageSource> {
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
