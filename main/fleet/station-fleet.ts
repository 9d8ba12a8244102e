/**
 * The database half of a station's fleet membership, as the composition roots (`flashline flash|line|
 * station`) wire it: the outbox as the history's SyncTarget, the unit claims as the engine's port, and the
 * background sync. No `<home>/fleet.json` (or no database in it) → undefined, and the station runs exactly
 * as a single station.
 */
import type { ReportStore, SyncTarget } from '../flash/report-store.js';
import type { UnitClaims } from '../flash/unit-claims.js';
import { PgUnitClaims } from './claims.js';
import { readFleetConfig } from './config.js';
import type { FleetConfig } from './contract.js';
import { connectDb } from './db.js';
import { Outbox, type SyncResult } from './outbox.js';
import { OutboxStateFile } from './outbox-state.js';

export interface StationFleet {
  readonly config: FleetConfig;
  /** Spread into `new FlashService({...})`: the history keeps unsynced reports, jobs claim their unit. */
  readonly serviceOptions: {
    readonly syncTarget: SyncTarget;
    readonly engine: { readonly unitClaims: UnitClaims };
  };
  /** Ship this history in the background; `jobs` (the flash manager) nudges it when a job ends. */
  start(reports: ReportStore, jobs?: { subscribe(fn: (e: { type: string }) => void): () => void }): void;
  /** Ship what is waiting now, giving up after `timeoutMs` (what is left goes with the next run). */
  flush(timeoutMs: number): Promise<void>;
  /** Ship this history's backlog once, now (rejects when the database fails). */
  syncNow(reports: ReportStore): Promise<SyncResult>;
  /** Flush briefly, then stop the loop and close the connections. */
  close(): Promise<void>;
}

export interface StationFleetOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Pause between background syncs when idle (ms). */
  readonly idleMs?: number;
}

export async function openStationFleet(
  home: string,
  options: StationFleetOptions = {},
): Promise<StationFleet | undefined> {
  const config = await readFleetConfig(home);
  if (!config?.db) return undefined;
  const env = options.env ?? process.env;
  const state = new OutboxStateFile(home);
  // postgres connects lazily: nothing here waits for the database, so a station starts with it down.
  const sql = await connectDb(config.db, { env, max: 2, connectTimeout: 3 });
  const identity = { station: config.station, site: config.site, operator: config.operator };
  const outbox = new Outbox({
    sql,
    dbUrl: config.db.url,
    identity,
    state,
    ...(options.idleMs !== undefined ? { idleMs: options.idleMs } : {}),
  });
  const claims = new PgUnitClaims(sql, config.station, config.db.url, state);
  let unsubscribe: (() => void) | undefined;
  const flush = async (timeoutMs: number) => {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      outbox.syncNow().catch(() => undefined),
      new Promise((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  };
  return {
    config,
    serviceOptions: { syncTarget: outbox, engine: { unitClaims: claims } },
    start(reports, jobs) {
      outbox.attach(reports);
      unsubscribe = jobs?.subscribe((e) => {
        if (e.type === 'end') outbox.nudge();
      });
      outbox.start();
    },
    flush,
    syncNow(reports) {
      outbox.attach(reports);
      return outbox.syncNow();
    },
    async close() {
      unsubscribe?.();
      await outbox.stop();
      await flush(3000);
      await sql.end({ timeout: 2 });
    },
  };
}
