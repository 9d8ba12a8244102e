/**
 * The durable outbox: the station's report history (main/flash/report-store.ts) is the queue, and a
 * persisted cursor (outbox-state.ts) says how far PostgreSQL has taken it. Each batch goes in one
 * transaction: job rows `ON CONFLICT (job_id) DO NOTHING` (a batch re-sent after a crash between commit and
 * cursor write changes nothing), claims settled (passed → kept, failed → released), jobs that ran without a
 * claim checked for duplicates. Failures retry with exponential backoff; retention keeps every report above
 * the cursor (SyncTarget), so a station offline for a day loses nothing.
 */
import type { JobReport } from '../flash/report.js';
import type { ReportStore, SyncTarget } from '../flash/report-store.js';
import { dbProblem, type Sql } from './db.js';
import type { OutboxState, OutboxStateFile } from './outbox-state.js';
import { JOB_COLUMNS, reportToRow, type StationIdentity } from './rows.js';

export interface OutboxOptions {
  readonly sql: Sql;
  readonly dbUrl: string;
  readonly identity: StationIdentity;
  readonly state: OutboxStateFile;
  /** Reports per transaction. */
  readonly batch?: number;
  /** Pause between polls when nothing failed (a saved report nudges the loop at once). */
  readonly idleMs?: number;
  /** Backoff bounds after a failed sync. */
  readonly backoff?: { readonly firstMs: number; readonly maxMs: number };
}

export interface SyncResult {
  readonly sent: number;
  readonly duplicates: number;
}

export class Outbox implements SyncTarget {
  readonly #o: OutboxOptions;
  #reports: ReportStore | undefined;
  #running = false;
  #wake: (() => void) | undefined;
  #loop: Promise<void> | undefined;
  #failures = 0;
  #syncing: Promise<SyncResult> | undefined;

  constructor(options: OutboxOptions) {
    this.#o = options;
  }

  async syncedThrough(): Promise<number> {
    return (await this.#o.state.read()).syncedThrough;
  }

  /** The history the outbox ships (set once the flash service has opened it). */
  attach(reports: ReportStore): void {
    this.#reports = reports;
  }

  /** Ship everything above the cursor now; one call at a time (a second caller shares the first's run). */
  syncNow(): Promise<SyncResult> {
    if (!this.#syncing) {
      this.#syncing = this.#syncAll().finally(() => {
        this.#syncing = undefined;
      });
    }
    return this.#syncing;
  }

  /** Sync in the background until stop(): after each saved report (nudge) and every `idleMs`. */
  start(): void {
    if (this.#running) return;
    this.#running = true;
    this.#loop = this.#run();
  }

  nudge(): void {
    this.#wake?.();
  }

  async stop(): Promise<void> {
    this.#running = false;
    this.#wake?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (this.#running) {
      let delay = this.#o.idleMs ?? 2000;
      try {
        await this.syncNow();
        this.#failures = 0;
      } catch {
        // Recorded in the state file by #syncAll; wait longer each time, with jitter so stations spread out.
        this.#failures++;
        const { firstMs, maxMs } = this.#o.backoff ?? { firstMs: 1000, maxMs: 60_000 };
        delay = Math.min(maxMs, firstMs * 2 ** (this.#failures - 1)) * (0.8 + Math.random() * 0.4);
      }
      if (!this.#running) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, delay);
        // The loop never keeps a process alive on its own: its owner calls stop() (close) to finish.
        t.unref();
        this.#wake = () => {
          clearTimeout(t);
          resolve();
        };
      });
      this.#wake = undefined;
    }
  }

  async #syncAll(): Promise<SyncResult> {
    const reports = this.#reports;
    if (!reports) return { sent: 0, duplicates: 0 };
    let sent = 0;
    let duplicates = 0;
    try {
      for (;;) {
        const state = await this.#o.state.read();
        const batch = await reports.after(state.syncedThrough, this.#o.batch ?? 200);
        if (batch.length === 0) break;
        const found = await this.#ship(
          batch.map((b) => b.report),
          new Set(state.pendingChecks),
        );
        const shipped = new Set(batch.map((b) => b.report.jobId));
        const top = Math.max(...batch.map((b) => b.seq));
        await this.#o.state.update((s) => {
          s.syncedThrough = top;
          s.pendingChecks = s.pendingChecks.filter((j) => !shipped.has(j));
          for (const d of found) if (!s.duplicates.some((x) => x.jobId === d.jobId)) s.duplicates.push(d);
          s.lastSyncAt = new Date().toISOString();
          delete s.lastError;
          delete s.lastErrorAt;
        });
        sent += batch.length;
        duplicates += found.length;
      }
      const state = await this.#o.state.read();
      // An idle poll writes only when there is news (a cleared error, or a minute since the last mark).
      const stale = Date.now() - Date.parse(state.lastSyncAt ?? '1970-01-01') > 60_000;
      if (sent === 0 && (state.lastError !== undefined || stale)) {
        await this.#o.state.update((s) => {
          s.lastSyncAt = new Date().toISOString();
          delete s.lastError;
          delete s.lastErrorAt;
        });
      }
      return { sent, duplicates };
    } catch (err) {
      const message = dbProblem(this.#o.dbUrl, err);
      await this.#o.state
        .update((s: OutboxState) => {
          s.lastError = message;
          s.lastErrorAt = new Date().toISOString();
        })
        .catch(() => undefined);
      throw err;
    }
  }

  /** One batch in one transaction; returns the duplicates the claim check found. */
  async #ship(batch: JobReport[], pending: ReadonlySet<string>): Promise<OutboxState['duplicates']> {
    const { identity } = this.#o;
    const rows = batch.map((r) => reportToRow(r, identity, pending.has(r.jobId)));
    const passed = batch.filter((r) => r.status === 0 && !pending.has(r.jobId)).map((r) => r.jobId);
    const failed = batch.filter((r) => r.status !== 0).map((r) => r.jobId);
    const toCheck = batch.filter((r) => pending.has(r.jobId));
    return await this.#o.sql.begin(async (tx) => {
      await tx`INSERT INTO fleet_stations (station, site) VALUES (${identity.station}, ${identity.site})
        ON CONFLICT (station) DO UPDATE SET site = excluded.site, last_sync_at = now()`;
      // jsonb columns go as JSON explicitly (an array would otherwise be sent as a PostgreSQL array).
      const values = rows.map((r) => ({
        ...r,
        device: tx.json(r.device),
        stages: tx.json(r.stages as never),
      }));
      await tx`INSERT INTO fleet_jobs ${tx(values as never, ...JOB_COLUMNS)} ON CONFLICT (job_id) DO NOTHING`;
      if (passed.length > 0) await tx`UPDATE fleet_claims SET state = 'passed' WHERE job_id IN ${tx(passed)}`;
      if (failed.length > 0)
        await tx`DELETE FROM fleet_claims WHERE job_id IN ${tx(failed)} AND state = 'running'`;
      const found: OutboxState['duplicates'] = [];
      for (const r of toCheck) {
        const serial = r.device.serial;
        if (r.status !== 0 || !serial) {
          await tx`UPDATE fleet_jobs SET duplicate_check = NULL WHERE job_id = ${r.jobId}`;
          continue;
        }
        // The claim it could not make when it ran, made now: ours → fine; another station's → a duplicate.
        const won = await tx`
          INSERT INTO fleet_claims (serial, package_sha256, station, job_id, state)
          VALUES (${serial}, ${r.package.sha256}, ${identity.station}, ${r.jobId}, 'passed')
          ON CONFLICT (serial, package_sha256) DO UPDATE SET job_id = excluded.job_id, state = 'passed'
            WHERE fleet_claims.station = excluded.station
          RETURNING job_id`;
        if (won.length > 0) {
          await tx`UPDATE fleet_jobs SET duplicate_check = NULL WHERE job_id = ${r.jobId}`;
          continue;
        }
        const [held] = await tx<{ station: string }[]>`SELECT station FROM fleet_claims
          WHERE serial = ${serial} AND package_sha256 = ${r.package.sha256}`;
        await tx`UPDATE fleet_jobs SET duplicate_check = 'duplicate' WHERE job_id = ${r.jobId}`;
        found.push({ jobId: r.jobId, serial, heldBy: held?.station ?? 'another station' });
      }
      return found;
    });
  }
}
