/**
 * The station's report history: every finished job's report, kept in the embedded store (an indexed
 * append-only log, main/flash/store/segment-log.ts; why: docs/embedded-store.md) under `<home>/history`.
 * An in-memory index (job id, end time, status, serial, package hash, search text) serves the History
 * screen page by page, exports, `flashedSerials` and "is this job's report stored?" without reading report
 * files. Retention drops whole old segments (default: older than 90 days or beyond 100,000 reports), never
 * a report a sync target has not taken yet. Reports of earlier versions (one JSON file each under
 * `<home>/reports`) are moved in on first open.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FlashlineError } from '../common/errors.js';
import { type DiskIo, describeStorageFault, nodeDisk, storageFault } from '../common/station-storage.js';
import { type JobReport, jobReportSchema } from './report.js';
import { DEFAULT_RETENTION, type RetentionPolicy, type SyncTarget } from './store/retention.js';
import { type LogEntry, SegmentLog } from './store/segment-log.js';

export interface ReportStoreOptions {
  readonly retention?: Partial<RetentionPolicy>;
  readonly syncTarget?: SyncTarget;
  /** The one-file-per-report directory of earlier versions, moved into the store on first open. */
  readonly legacyDir?: string;
  readonly disk?: DiskIo;
  /** Reports per segment file (the unit retention drops). */
  readonly segmentRecords?: number;
  readonly now?: () => number;
}

/** The History filter: free text over job id, device id, serial, product, package, status name. */
export interface ReportFilter {
  readonly text?: string | undefined;
  readonly outcome?: 'all' | 'ok' | 'failed' | undefined;
  /** Only reports that ended at or after this time. */
  readonly since?: Date | undefined;
}

export interface HistoryPage {
  /** Newest first. */
  readonly reports: JobReport[];
  /** Reports in the store. */
  readonly total: number;
  /** Reports matching the filter (all pages). */
  readonly matched: number;
  /** Pass as `cursor` for the next (older) page; null on the last page. */
  readonly nextCursor: number | null;
}

interface ReportKey {
  readonly jobId: string;
  readonly endedAt: number;
  readonly status: number;
  readonly serial?: string;
  readonly sha256: string;
  /** Lower-cased searchable fields joined by NUL. */
  readonly text: string;
}

function keyOf(record: unknown): ReportKey | undefined {
  const r = jobReportSchema.safeParse(record);
  if (!r.success) return undefined;
  const { data } = r;
  const text = [
    data.jobId,
    data.deviceId,
    data.device.serial,
    data.device.product,
    data.package.id,
    data.package.version,
    data.statusName,
  ]
    .filter((v): v is string => typeof v === 'string')
    .join('\u0000')
    .toLowerCase();
  return {
    jobId: data.jobId,
    endedAt: Date.parse(data.endedAt),
    status: data.status,
    ...(data.device.serial ? { serial: data.device.serial } : {}),
    sha256: data.package.sha256,
    text,
  };
}

function matcher(filter: ReportFilter): (k: ReportKey) => boolean {
  const needle = (filter.text ?? '').trim().toLowerCase();
  const since = filter.since?.getTime() ?? Number.NEGATIVE_INFINITY;
  return (k) =>
    !(filter.outcome === 'ok' && k.status !== 0) &&
    !(filter.outcome === 'failed' && k.status === 0) &&
    k.endedAt >= since &&
    (!needle || k.text.includes(needle));
}

/** The same filter for a report in hand (the index applies it to keys; one definition for both). */
export function reportMatches(report: JobReport, filter: ReportFilter): boolean {
  const key = keyOf(report);
  return key !== undefined && matcher(filter)(key);
}

const READ_BATCH = 256;

export class ReportStore {
  readonly dir: string;
  readonly #opts: ReportStoreOptions;
  readonly #retention: RetentionPolicy;
  #opening: Promise<SegmentLog<ReportKey>> | undefined;
  readonly #byJob = new Map<string, LogEntry<ReportKey>>();
  /** package sha256 -> serial -> passed reports held: flashedSerials without a scan. */
  readonly #passed = new Map<string, Map<string, number>>();

  constructor(dir: string, options: ReportStoreOptions = {}) {
    this.dir = dir;
    this.#opts = options;
    this.#retention = { ...DEFAULT_RETENTION, ...options.retention };
  }

  /** The store of a Flashline home: `<home>/history`, migrating `<home>/reports` on first open. */
  static forHome(home: string, options: Omit<ReportStoreOptions, 'legacyDir'> = {}): ReportStore {
    return new ReportStore(join(home, 'history'), { ...options, legacyDir: join(home, 'reports') });
  }

  /** Store a finished job's report durably (fsync) — once per job id; resolves when it is on disk. */
  async save(report: JobReport): Promise<void> {
    const log = await this.#log();
    if (this.#byJob.has(report.jobId)) return;
    const sealedBefore = log.sealed().length;
    for (const e of await storing('the job report', log.append([report]))) this.#remember(e);
    // Retention is housekeeping: the report is stored whatever becomes of it (tried again next segment).
    if (log.sealed().length !== sealedBefore) await this.prune().catch(() => undefined);
  }

  async has(jobId: string): Promise<boolean> {
    await this.#log();
    return this.#byJob.has(jobId);
  }

  async get(jobId: string): Promise<JobReport | undefined> {
    const log = await this.#log();
    const entry = this.#byJob.get(jobId);
    return entry ? ((await log.read([entry]))[0] as JobReport) : undefined;
  }

  async count(): Promise<number> {
    await this.#log();
    return this.#byJob.size;
  }

  /** One page of the History screen, newest first; only the page's reports are read from disk. */
  async page(query: ReportFilter & { cursor?: number | undefined; limit: number }): Promise<HistoryPage> {
    const log = await this.#log();
    const match = matcher(query);
    const picked: LogEntry<ReportKey>[] = [];
    let matched = 0;
    let more = false;
    for (const e of log.newestFirst()) {
      if (!match(e.key)) continue;
      matched++;
      if (query.cursor !== undefined && e.seq >= query.cursor) continue;
      if (picked.length < query.limit) picked.push(e);
      else more = true;
    }
    return {
      reports: (await log.read(picked)) as JobReport[],
      total: this.#byJob.size,
      matched,
      nextCursor: more ? (picked.at(-1)?.seq ?? null) : null,
    };
  }

  /** Matching reports, oldest first, read in small batches (exports stream these). */
  async *select(filter: ReportFilter = {}): AsyncGenerator<JobReport> {
    const log = await this.#log();
    const match = matcher(filter);
    const wanted = [...log.oldestFirst()].filter((e) => match(e.key));
    for (let i = 0; i < wanted.length; i += READ_BATCH) {
      const batch = wanted.slice(i, i + READ_BATCH).filter((e) => this.#byJob.get(e.key.jobId) === e);
      yield* (await log.read(batch)) as JobReport[];
    }
  }

  /** Matching reports, oldest first, as one list (prefer `select` or `page` for long histories). */
  async list(filter: ReportFilter = {}): Promise<JobReport[]> {
    const out: JobReport[] = [];
    for await (const r of this.select(filter)) out.push(r);
    return out;
  }

  /**
   * Reports stored after sequence number `seq`, oldest first, at most `limit`, with their numbers: what a
   * sync target (the fleet outbox) has not taken yet. `backlog` counts them all.
   */
  async after(seq: number, limit: number): Promise<{ seq: number; report: JobReport }[]> {
    const log = await this.#log();
    const picked = this.#storedAfter(log, seq).slice(0, limit);
    const reports = (await log.read(picked)) as JobReport[];
    return picked.map((e, i) => ({ seq: e.seq, report: reports[i] as JobReport }));
  }

  async backlog(seq: number): Promise<number> {
    return this.#storedAfter(await this.#log(), seq).length;
  }

  /** The current reports (latest per job) stored after `seq`, oldest first. */
  #storedAfter(log: SegmentLog<ReportKey>, seq: number): LogEntry<ReportKey>[] {
    // Walked from the newest end: an up-to-date target costs one step, not a pass over the whole history.
    const newer: LogEntry<ReportKey>[] = [];
    for (const e of log.newestFirst()) {
      if (e.seq <= seq) break;
      if (this.#byJob.get(e.key.jobId) === e) newer.push(e);
    }
    return newer.reverse();
  }

  /** Serials already flashed successfully with the package of this SHA-256 (auto-flash skips them). */
  async flashedSerials(packageSha256: string): Promise<Set<string>> {
    await this.#log();
    return new Set(this.#passed.get(packageSha256)?.keys());
  }

  /** Apply the retention policy now; returns how many reports were dropped. */
  async prune(): Promise<number> {
    const log = await this.#log();
    const now = (this.#opts.now ?? Date.now)();
    const cutoff = now - this.#retention.maxAgeDays * 86_400_000;
    const synced = this.#opts.syncTarget
      ? await this.#opts.syncTarget.syncedThrough()
      : Number.POSITIVE_INFINITY;
    let dropped = 0;
    for (let oldest = log.sealed()[0]; oldest; oldest = log.sealed()[0]) {
      const newestEnd = Math.max(...oldest.entries.map((e) => e.key.endedAt));
      const beyondCount = this.#byJob.size - oldest.entries.length >= this.#retention.maxReports;
      const lastSeq = oldest.entries.at(-1)?.seq ?? 0;
      if (!(beyondCount || newestEnd < cutoff) || lastSeq > synced) break;
      for (const e of await log.dropOldest()) this.#forget(e);
      dropped += oldest.entries.length;
    }
    return dropped;
  }

  async close(): Promise<void> {
    const opening = this.#opening;
    this.#opening = undefined;
    if (opening) await (await opening.catch(() => undefined))?.close();
  }

  #log(): Promise<SegmentLog<ReportKey>> {
    if (!this.#opening) {
      this.#opening = this.#open();
      // A failed open (e.g. the disk was read-only) is tried again by the next call.
      this.#opening.catch(() => {
        this.#opening = undefined;
      });
    }
    return this.#opening;
  }

  async #open(): Promise<SegmentLog<ReportKey>> {
    this.#byJob.clear();
    this.#passed.clear();
    const log = await storing(
      'the report history',
      SegmentLog.open<ReportKey>({
        dir: this.dir,
        keyOf,
        segmentRecords: this.#opts.segmentRecords ?? 2_000,
        disk: this.#opts.disk ?? nodeDisk,
      }),
    );
    for (const e of log.oldestFirst()) this.#remember(e);
    if (this.#opts.legacyDir) await this.#migrate(log, this.#opts.legacyDir);
    return log;
  }

  /**
   * Move reports of the one-file-per-report layout in, oldest first (by end time, as the history is
   * ordered): one pass reads only each file's end time, the second appends in batches and removes each
   * file once its batch is durable. Unreadable files stay where they are for a person to look at.
   */
  async #migrate(log: SegmentLog<ReportKey>, dir: string): Promise<void> {
    let names: string[];
    try {
      names = (await fs.readdir(dir)).filter((n) => n.endsWith('.json'));
    } catch {
      return; // nothing to migrate
    }
    const read = async (path: string) => {
      try {
        const r = jobReportSchema.safeParse(JSON.parse(await fs.readFile(path, 'utf8')));
        return r.success ? r.data : undefined;
      } catch {
        return undefined;
      }
    };
    const order: { path: string; endedAt: string }[] = [];
    for (const name of names) {
      const report = await read(join(dir, name));
      if (report) order.push({ path: join(dir, name), endedAt: report.endedAt });
    }
    order.sort((x, y) => x.endedAt.localeCompare(y.endedAt));
    for (let i = 0; i < order.length; i += READ_BATCH) {
      const batch = order.slice(i, i + READ_BATCH);
      const fresh: JobReport[] = [];
      for (const { path } of batch) {
        const report = await read(path);
        if (report && !this.#byJob.has(report.jobId) && !fresh.some((f) => f.jobId === report.jobId))
          fresh.push(report);
      }
      for (const e of await storing('the report history', log.append(fresh))) this.#remember(e);
      for (const { path } of batch) await fs.rm(path, { force: true });
    }
    await fs.rmdir(dir).catch(() => undefined);
  }

  #remember(e: LogEntry<ReportKey>): void {
    this.#byJob.set(e.key.jobId, e);
    if (e.key.status === 0 && e.key.serial) {
      const serials = this.#passed.get(e.key.sha256) ?? new Map<string, number>();
      serials.set(e.key.serial, (serials.get(e.key.serial) ?? 0) + 1);
      this.#passed.set(e.key.sha256, serials);
    }
  }

  #forget(e: LogEntry<ReportKey>): void {
    if (this.#byJob.get(e.key.jobId) === e) this.#byJob.delete(e.key.jobId);
    const serials = e.key.serial ? this.#passed.get(e.key.sha256) : undefined;
    if (!serials || e.key.status !== 0 || !e.key.serial) return;
    const left = (serials.get(e.key.serial) ?? 1) - 1;
    if (left > 0) serials.set(e.key.serial, left);
    else serials.delete(e.key.serial);
    if (serials.size === 0) this.#passed.delete(e.key.sha256);
  }
}

/** Await a store operation; a disk fault becomes a readable error that still carries its cause. */
async function storing<T>(what: string, op: Promise<T>): Promise<T> {
  try {
    return await op;
  } catch (err) {
    const fault = storageFault(err);
    if (!fault) throw err;
    throw new FlashlineError('station_storage', describeStorageFault(what, fault), fault, { cause: err });
  }
}

export { CSV_COLUMNS, exportText, reportsToCsv } from './report-csv.js';
export {
  DEFAULT_RETENTION,
  type RetentionPolicy,
  retentionFromEnv,
  type SyncTarget,
} from './store/retention.js';
