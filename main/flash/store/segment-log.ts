/**
 * An indexed append-only log of JSON lines, the station's embedded store (why this and not SQLite:
 * docs/embedded-store.md). Records go to segment files `seg-<first seq>.jsonl`; every append is one write
 * plus fsync, so an acknowledged record survives a crash. A sealed (full) segment gets a compact index file
 * `seg-<first seq>.idx.json` (written atomically; it is derived data, rebuilt from the segment if missing or
 * damaged), so opening the store reads the small index files and scans only the active segment. A torn last
 * line (crash or full disk mid-append) is cut off on open, never fatal; a damaged line elsewhere is skipped.
 * Retention drops whole old segments — no rewriting, no compaction.
 *
 * Written here rather than taken from npm: the maintained embedded stores are native addons (see the doc),
 * and what is needed is small — append, fsync, index, drop a segment.
 */
import { createReadStream, promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { fsyncDir, writeJsonAtomic } from '../../common/atomic-write.js';
import type { DiskIo } from '../../common/station-storage.js';

export interface LogEntry<K> {
  /** Position in the whole log, stable for the record's life (a paging cursor). */
  readonly seq: number;
  readonly segment: string;
  readonly offset: number;
  readonly length: number;
  readonly key: K;
}

export interface SegmentLogOptions<K> {
  readonly dir: string;
  /** Validate one parsed record and derive its index key; undefined skips the line (not a valid record). */
  readonly keyOf: (record: unknown) => K | undefined;
  /** Records per segment: the unit of retention. */
  readonly segmentRecords: number;
  readonly disk: DiskIo;
}

interface Segment<K> {
  readonly firstSeq: number;
  readonly name: string;
  readonly entries: LogEntry<K>[];
  /** Lines in the file, valid or not: the next record's seq is firstSeq + lines. */
  lines: number;
  /** Bytes of whole lines; anything after this is a torn tail to cut. */
  size: number;
}

const SEGMENT = /^seg-(\d{12})\.jsonl$/;
const segmentName = (firstSeq: number) => `seg-${String(firstSeq).padStart(12, '0')}.jsonl`;
const indexName = (segment: string) => segment.replace(/\.jsonl$/, '.idx.json');

export class SegmentLog<K> {
  readonly #opts: SegmentLogOptions<K>;
  readonly #segments: Segment<K>[] = [];
  #tailDirty = false;
  #queue: Promise<unknown> = Promise.resolve();

  private constructor(options: SegmentLogOptions<K>) {
    this.#opts = options;
  }

  static async open<K>(options: SegmentLogOptions<K>): Promise<SegmentLog<K>> {
    const log = new SegmentLog(options);
    await fs.mkdir(options.dir, { recursive: true });
    const names = (await fs.readdir(options.dir)).filter((n) => SEGMENT.test(n)).sort();
    for (const [i, name] of names.entries()) {
      const last = i === names.length - 1;
      const firstSeq = Number(SEGMENT.exec(name)?.[1]);
      log.#segments.push(
        (!last && (await log.#loadIndex(name, firstSeq))) || (await log.#scan(name, firstSeq, last)),
      );
    }
    return log;
  }

  get size(): number {
    return this.#segments.reduce((a, s) => a + s.entries.length, 0);
  }

  /** Entries newest first, starting below `beforeSeq` when given. */
  *newestFirst(beforeSeq = Number.POSITIVE_INFINITY): Generator<LogEntry<K>> {
    for (let s = this.#segments.length - 1; s >= 0; s--) {
      const seg = this.#segments[s] as Segment<K>;
      if (seg.firstSeq >= beforeSeq) continue;
      for (let i = seg.entries.length - 1; i >= 0; i--) {
        const e = seg.entries[i] as LogEntry<K>;
        if (e.seq < beforeSeq) yield e;
      }
    }
  }

  *oldestFirst(): Generator<LogEntry<K>> {
    for (const seg of this.#segments) yield* seg.entries;
  }

  /** Full segments, oldest first: what retention may drop (the active one never is). */
  sealed(): readonly { readonly name: string; readonly entries: readonly LogEntry<K>[] }[] {
    return this.#segments.slice(0, -1);
  }

  /** Append records (one write, one fsync); resolves once they are durable. */
  append(records: readonly unknown[]): Promise<LogEntry<K>[]> {
    return this.#serial(async () => {
      let seg = this.#segments.at(-1);
      if (!seg || seg.lines >= this.#opts.segmentRecords) seg = await this.#roll();
      const texts = records.map((r) => `${JSON.stringify(r)}\n`);
      // Opened per append (as the journal does): no descriptor is held between reports.
      const handle = await this.#opts.disk.open(join(this.#opts.dir, seg.name), 'r+');
      try {
        await this.#write(handle, seg.size, Buffer.from(texts.join('')));
      } finally {
        await handle.close();
      }
      const added: LogEntry<K>[] = [];
      let offset = seg.size;
      for (const [i, text] of texts.entries()) {
        const length = Buffer.byteLength(text) - 1;
        const key = this.#opts.keyOf(records[i]);
        if (key !== undefined)
          added.push({ seq: seg.firstSeq + seg.lines, segment: seg.name, offset, length, key });
        seg.lines++;
        offset += length + 1;
      }
      seg.size = offset;
      seg.entries.push(...added);
      return added;
    });
  }

  /** Read the records of `entries` (opening each segment once), in the order given. */
  async read(entries: readonly LogEntry<K>[]): Promise<unknown[]> {
    const out = new Array<unknown>(entries.length);
    const bySegment = new Map<string, number[]>();
    for (const [i, e] of entries.entries())
      bySegment.set(e.segment, [...(bySegment.get(e.segment) ?? []), i]);
    for (const [segment, indexes] of bySegment) {
      const handle = await fs.open(join(this.#opts.dir, segment), 'r');
      try {
        for (const i of indexes) {
          const e = entries[i] as LogEntry<K>;
          const buf = Buffer.alloc(e.length);
          await handle.read(buf, 0, e.length, e.offset);
          out[i] = JSON.parse(buf.toString('utf8'));
        }
      } finally {
        await handle.close();
      }
    }
    return out;
  }

  /** Remove the oldest sealed segment; returns its entries so the owner can forget them. */
  dropOldest(): Promise<readonly LogEntry<K>[]> {
    return this.#serial(async () => {
      if (this.#segments.length < 2) return [];
      const seg = this.#segments.shift() as Segment<K>;
      await fs.rm(join(this.#opts.dir, indexName(seg.name)), { force: true });
      await fs.rm(join(this.#opts.dir, seg.name), { force: true });
      return seg.entries;
    });
  }

  /** Wait for appends under way (nothing else is held open). */
  async close(): Promise<void> {
    await this.#serial(async () => undefined);
  }

  /** Write whole lines at `size` and fsync; on failure cut back to `size` so no half record stays. */
  async #write(handle: FileHandle, size: number, bytes: Buffer): Promise<void> {
    try {
      if (this.#tailDirty) {
        await handle.truncate(size);
        this.#tailDirty = false;
      }
      for (let done = 0; done < bytes.length; ) {
        const { bytesWritten } = await handle.write(bytes, done, bytes.length - done, size + done);
        done += bytesWritten;
      }
      await handle.sync();
    } catch (err) {
      await handle.truncate(size).then(
        () => {
          this.#tailDirty = false;
        },
        () => {
          this.#tailDirty = true;
        },
      );
      throw err;
    }
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#queue.then(fn);
    this.#queue = next.catch(() => undefined);
    return next;
  }

  /** Seal the active segment (write its index) and start the next one. */
  async #roll(): Promise<Segment<K>> {
    const prev = this.#segments.at(-1);
    const firstSeq = prev ? prev.firstSeq + prev.lines : 1;
    const name = segmentName(firstSeq);
    await (await this.#opts.disk.open(join(this.#opts.dir, name), 'a')).close();
    await fsyncDir(this.#opts.dir);
    const seg: Segment<K> = { firstSeq, name, entries: [], lines: 0, size: 0 };
    this.#segments.push(seg);
    // The index is derived data: if it cannot be written now, the next open rebuilds it from the segment.
    if (prev) await this.#writeIndex(prev).catch(() => undefined);
    return seg;
  }

  async #writeIndex(seg: Segment<K>): Promise<void> {
    await writeJsonAtomic(join(this.#opts.dir, indexName(seg.name)), {
      lines: seg.lines,
      size: seg.size,
      entries: seg.entries.map((e) => [e.seq, e.offset, e.length, e.key]),
    });
  }

  async #loadIndex(name: string, firstSeq: number): Promise<Segment<K> | undefined> {
    try {
      const raw = JSON.parse(await fs.readFile(join(this.#opts.dir, indexName(name)), 'utf8')) as {
        lines: number;
        size: number;
        entries: [number, number, number, unknown][];
      };
      const { size } = await fs.stat(join(this.#opts.dir, name));
      if (size !== raw.size) return undefined;
      // Keys were derived by keyOf when the segment was sealed; the index is trusted like the segment.
      const entries = raw.entries.map(
        ([seq, offset, length, key]): LogEntry<K> => ({ seq, segment: name, offset, length, key: key as K }),
      );
      return { firstSeq, name, entries, lines: raw.lines, size: raw.size };
    } catch {
      return undefined;
    }
  }

  /** Read a segment line by line (streamed), indexing whole lines; cut a torn tail of the active one. */
  async #scan(name: string, firstSeq: number, active: boolean): Promise<Segment<K>> {
    const path = join(this.#opts.dir, name);
    const seg: Segment<K> = { firstSeq, name, entries: [], lines: 0, size: 0 };
    let pending: Buffer = Buffer.alloc(0);
    for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 })) {
      pending = pending.length ? Buffer.concat([pending, chunk as Buffer]) : (chunk as Buffer);
      let start = 0;
      for (let nl = pending.indexOf(10, start); nl >= 0; nl = pending.indexOf(10, start)) {
        this.#indexLine(seg, pending.subarray(start, nl));
        start = nl + 1;
      }
      pending = pending.subarray(start);
    }
    if (pending.length > 0 && active) await fs.truncate(path, seg.size);
    if (!active) await this.#writeIndex(seg).catch(() => undefined);
    return seg;
  }

  #indexLine(seg: Segment<K>, line: Buffer): void {
    let key: K | undefined;
    try {
      key = this.#opts.keyOf(JSON.parse(line.toString('utf8')));
    } catch {
      key = undefined; // a damaged line: skipped, its seq stays taken
    }
    if (key !== undefined)
      seg.entries.push({
        seq: seg.firstSeq + seg.lines,
        segment: seg.name,
        offset: seg.size,
        length: line.length,
        key,
      });
    seg.lines++;
    seg.size += line.length + 1;
  }
}
