/**
 * The `.flp` container: a POSIX tar (read and written with tar-stream) whose entries come in a fixed order —
 *   manifest.json, signatures.json, [encryption.json], then per image in manifest order
 *   images/<partition>.blocks (block hash list), images/<partition>.img (image bytes, maybe encrypted).
 * The reader accepts exactly that sequence of regular files; anything else (links, devices, directories,
 * absolute or `..` paths, duplicates, entries not in the manifest) is refused before it is read, and so are
 * tar extension headers (pax, GNU long names): the packer never writes them and tar-stream would apply them
 * silently. Refusals speak of "not a Flashline package, or damaged", never in the tar library's words.
 */
import { createReadStream, promises as fs } from 'node:fs';
import tar from 'tar-stream';
import type { FlashlineError } from '../common/errors.js';
import { PKG, pkgError } from './codes.js';
import {
  BLOCK,
  explainFailure,
  explainHeaderAt,
  extensionHeaderAt,
  neverWritten,
  notAPackage,
  padded,
} from './container-errors.js';

/** A tar entry as tar-stream yields it (its type is not exported by name). */
export type TarEntry = tar.ExtractEvents['entry'][1];

export const ENTRY = {
  manifest: 'manifest.json',
  signatures: 'signatures.json',
  encryption: 'encryption.json',
  blocks: (partition: string) => `images/${partition}.blocks`,
  image: (partition: string) => `images/${partition}.img`,
} as const;

export const HEAD_LIMITS = {
  signaturesBytes: 64 * 1024,
  encryptionBytes: 64 * 1024,
} as const;

export interface ContainerEntry {
  readonly name: string;
  readonly size: number;
  /** Offset of the entry's 512-byte header in the file. */
  readonly headerOffset: number;
  /** Offset of the entry's data in the file (lets openImage read an entry directly). */
  readonly offset: number;
  readonly stream: TarEntry;
}

function describeType(type: string | null | undefined): string {
  switch (type) {
    case 'link':
    case 'symlink':
      return 'a link';
    case 'character-device':
    case 'block-device':
    case 'fifo':
      return 'a device or fifo';
    case 'directory':
      return 'a directory';
    default:
      return `of type ${String(type)}`;
  }
}

/** Refuse anything but the next expected regular file, naming what is wrong. */
export function checkEntry(
  header: Pick<tar.Header, 'name' | 'type'>,
  expected: string | readonly string[] | undefined,
  seen: Set<string>,
): void {
  const name = header.name;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name) || name.startsWith('\\')) {
    throw pkgError(PKG.malformed, `Package entry '${name}' has an absolute path; refusing the package.`);
  }
  if (name.split(/[\\/]/).includes('..')) {
    throw pkgError(PKG.malformed, `Package entry '${name}' escapes with '..'; refusing the package.`);
  }
  if (header.type !== 'file') {
    throw pkgError(
      PKG.malformed,
      `Package entry '${name}' is ${describeType(header.type)}, not a regular file.`,
    );
  }
  if (seen.has(name)) throw pkgError(PKG.malformed, `Package entry '${name}' appears twice.`);
  seen.add(name);
  const allowed = expected === undefined ? [] : typeof expected === 'string' ? [expected] : expected;
  if (!allowed.includes(name)) {
    throw pkgError(
      PKG.malformed,
      allowed.length === 0
        ? `Package entry '${name}' is not listed in the manifest.`
        : `Package entry '${name}' is out of place or not listed in the manifest (expected ${allowed.join(' or ')}).`,
      { entry: name },
    );
  }
}

/** streamx readables are async-iterable at runtime, but their type declarations omit it. */
function bytesOf(stream: TarEntry): AsyncIterable<Buffer> {
  return stream as unknown as AsyncIterable<Buffer>;
}

const END_OF_ARCHIVE = 1024;

/** Sequential reader over the tar entries of a package file. Always call close(). */
export class ContainerReader {
  private iterator!: AsyncIterator<TarEntry>;
  private source!: ReturnType<typeof createReadStream>;
  private extract!: tar.Extract;
  private failure: unknown;
  /** Where the next entry's header must start: right after the previous entry's padded data. */
  private nextHeaderAt = 0;
  /** File offset the current tar stream starts at (moved by skip()). */
  private base = 0;
  readonly path: string;
  private readonly signal: AbortSignal | undefined;

  constructor(path: string, signal?: AbortSignal) {
    this.path = path;
    this.signal = signal;
    this.start(0);
  }

  private start(at: number): void {
    this.base = at;
    // Image data is skipped, never read through here: reads only need to cover headers and small entries.
    const source = createReadStream(this.path, {
      start: at,
      highWaterMark: 256 * 1024,
      ...(this.signal ? { signal: this.signal } : {}),
    });
    const extract = tar.extract();
    // streamx (tar-stream) and Node streams: wire errors both ways by hand instead of stream.pipeline.
    // A stream left behind by skip() is destroyed and its late errors are no failure of the package.
    const current = () => this.source === source;
    source.on('error', (err) => {
      if (!current()) return;
      this.failure ??= err;
      extract.destroy(err);
    });
    extract.on('error', (err: Error) => {
      if (!current()) return;
      this.failure ??= err;
      source.destroy();
    });
    source.pipe(extract as unknown as NodeJS.WritableStream);
    this.source = source;
    this.extract = extract;
    this.iterator = extract[Symbol.asyncIterator]();
  }

  async next(): Promise<ContainerEntry | undefined> {
    let r: IteratorResult<TarEntry>;
    try {
      r = await this.iterator.next();
      if (r.done && this.failure !== undefined) throw this.failure;
    } catch (err) {
      throw await this.explain(err);
    }
    if (r.done) return undefined;
    // byteOffset (where the entry's data starts) is set by tar-stream but missing from its types.
    const h = r.value.header as tar.Header & { byteOffset?: unknown };
    const entry: ContainerEntry = {
      name: h.name,
      size: h.size ?? 0,
      headerOffset: this.base + r.value.offset,
      offset: typeof h.byteOffset === 'number' ? this.base + h.byteOffset : -1,
      stream: r.value,
    };
    // Anything between the previous entry and this header (an extension header, stray blocks) is refused
    // here, before the entry is read, and named.
    if (entry.headerOffset !== this.nextHeaderAt) {
      throw await explainHeaderAt(this.path, this.nextHeaderAt, `before '${entry.name}'`);
    }
    // A GNU volume, sparse or multi-volume header reaches us as an entry of no known type: name it.
    const kind = h.type ? undefined : await extensionHeaderAt(this.path, entry.headerOffset);
    if (kind) throw neverWritten(kind, `at byte ${entry.headerOffset}`);
    this.nextHeaderAt = entry.offset + padded(entry.size);
    return entry;
  }

  private explain(err: unknown): Promise<FlashlineError> {
    return explainFailure(this.failure ?? err, this.path, this.nextHeaderAt);
  }

  /** An entry's bytes as they flow; a read failure is explained like any other (see explainFailure). */
  async *read(entry: ContainerEntry): AsyncGenerator<Buffer> {
    try {
      yield* bytesOf(entry.stream);
    } catch (err) {
      throw await this.explain(err);
    }
  }

  /** Read a small entry whole, after checking its declared size against `maxBytes`. */
  async readSmall(entry: ContainerEntry, maxBytes: number, what: string): Promise<Buffer> {
    if (entry.size > maxBytes) {
      throw pkgError(PKG.malformed, `${what} is ${entry.size} bytes, more than the limit of ${maxBytes}.`);
    }
    const parts: Buffer[] = [];
    for await (const c of this.read(entry)) parts.push(c);
    return Buffer.concat(parts);
  }

  /** Consume an entry's bytes without keeping them. */
  async drain(entry: ContainerEntry, onChunk?: (chunk: Buffer) => void): Promise<void> {
    for await (const c of this.read(entry)) onChunk?.(c);
  }

  /**
   * Move past an entry (just returned by next()) without reading its bytes: the tar stream restarts at the
   * next header's place in the file. Image data is verified where it is read (openImage), so the structure
   * walk need not pass over it; a file too short to hold the entry is refused here as a cut-off file.
   */
  async skip(entry: ContainerEntry): Promise<void> {
    const { size } = await fs.stat(this.path);
    if (entry.offset + entry.size > size)
      throw notAPackage('the file ends early: an incomplete download or copy?', { offset: entry.offset });
    this.close();
    this.start(this.nextHeaderAt);
  }

  close(): void {
    this.source.destroy();
    this.extract.destroy();
  }
}

/**
 * The container must be laid out exactly as the packer writes it: each header right after the previous
 * entry's zero padding, no extension headers, then exactly 1024 zero bytes and nothing else. Together with
 * the header checksum and the signed contents this leaves no byte of the file unchecked.
 */
export async function checkLayout(
  path: string,
  entries: readonly Pick<ContainerEntry, 'name' | 'headerOffset' | 'offset' | 'size'>[],
): Promise<void> {
  const handle = await fs.open(path, 'r').catch(async (err: unknown) => {
    throw await explainFailure(err, path, 0);
  });
  try {
    const zeros = async (start: number, length: number, what: string) => {
      if (length === 0) return;
      const buf = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buf, 0, length, start);
      if (bytesRead !== length || buf.some((b) => b !== 0)) {
        throw pkgError(PKG.malformed, `Package container has unexpected bytes in ${what}.`);
      }
    };
    let expected = 0;
    for (const e of entries) {
      if (e.headerOffset !== expected || e.offset !== expected + BLOCK) {
        throw pkgError(
          PKG.malformed,
          `Package entry '${e.name}' is not where the format puts it (extra headers or data before it).`,
        );
      }
      await zeros(e.offset + e.size, padded(e.size) - e.size, `the padding after '${e.name}'`);
      expected = e.offset + padded(e.size);
    }
    const { size } = await handle.stat();
    if (size > expected + END_OF_ARCHIVE) {
      // tar-stream consumes a trailing extension header silently: name it rather than "trailing data".
      const kind = await extensionHeaderAt(path, expected);
      if (kind) throw neverWritten(kind, 'after the last image');
    }
    if (size !== expected + END_OF_ARCHIVE) {
      throw pkgError(
        PKG.malformed,
        size > expected + END_OF_ARCHIVE
          ? `Package has ${size - expected - END_OF_ARCHIVE} bytes of trailing data after the archive end.`
          : 'Package is truncated: the archive end is missing.',
      );
    }
    await zeros(expected, END_OF_ARCHIVE, 'the archive end');
  } finally {
    await handle.close();
  }
}
