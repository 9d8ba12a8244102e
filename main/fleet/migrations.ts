/**
 * The fleet schema as plain numbered SQL, applied in order, each in its own transaction, under a
 * transaction-level advisory lock so stations that run `fleet init` (or start) at the same moment migrate
 * once. Why not `ley` or another tool: the whole need is "apply the missing numbered scripts atomically, once,
 * under a lock" — a few lines over the driver we already use — and the scripts live in code (not files) so
 * the packaged app needs no asset path. Never edit a shipped migration; add the next number.
 */
import type { Sql } from './db.js';

export interface Migration {
  readonly version: number;
  readonly name: string;
  readonly sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'jobs and unit claims',
    sql: `
CREATE TABLE fleet_jobs (
  job_id            text PRIMARY KEY,
  station           text NOT NULL,
  site              text NOT NULL,
  operator          text,
  device_id         text NOT NULL,
  serial            text,
  product           text,
  hardware_revision text,
  package_id        text NOT NULL,
  package_version   text NOT NULL,
  package_sha256    text NOT NULL,
  rollback_index    integer NOT NULL,
  status            smallint NOT NULL,
  status_name       text NOT NULL,
  message           text NOT NULL,
  started_at        timestamptz NOT NULL,
  ended_at          timestamptz NOT NULL,
  received_at       timestamptz NOT NULL DEFAULT now(),
  bytes_written     bigint NOT NULL,
  rate              bigint NOT NULL,
  device            jsonb NOT NULL,
  stages            jsonb NOT NULL,
  duplicate_check   text CHECK (duplicate_check IN ('pending', 'duplicate'))
);
-- Newest-first paging (keyset on ended_at, job_id: every index ends with both, so a page is an index
-- range read with no sort) and the filters the fleet view and report use.
CREATE INDEX fleet_jobs_ended ON fleet_jobs (ended_at DESC, job_id DESC);
CREATE INDEX fleet_jobs_product ON fleet_jobs (product, ended_at DESC, job_id DESC);
CREATE INDEX fleet_jobs_station ON fleet_jobs (station, ended_at DESC, job_id DESC);
-- Serial and job id are searched by case-insensitive prefix (the free-text box): pattern-ops indexes.
CREATE INDEX fleet_jobs_serial ON fleet_jobs (lower(serial) text_pattern_ops);
CREATE INDEX fleet_jobs_job_prefix ON fleet_jobs (lower(job_id) text_pattern_ops);
CREATE INDEX fleet_jobs_failed ON fleet_jobs (ended_at DESC, job_id DESC) WHERE status <> 0;

-- "Never twice the same unit": one row per (unit, package); 'running' while a station's job owns it,
-- 'passed' once that job succeeded. A failed job's claim is deleted when its report arrives.
CREATE TABLE fleet_claims (
  serial         text NOT NULL,
  package_sha256 text NOT NULL,
  station        text NOT NULL,
  job_id         text NOT NULL,
  state          text NOT NULL CHECK (state IN ('running', 'passed')),
  claimed_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (serial, package_sha256)
);

-- Every station that ever shipped a job, so the station list needs no scan of the jobs.
CREATE TABLE fleet_stations (
  station      text PRIMARY KEY,
  site         text NOT NULL,
  last_sync_at timestamptz NOT NULL DEFAULT now()
);
`,
  },
  {
    version: 2,
    name: 'over-the-air attempts',
    sql: `
-- One row per OTA attempt (a device installing one package over the air), as its agent last reported it.
-- Reports arrive at least once and maybe out of order: the ingester's upsert only moves a row forward
-- (a higher seq), and only for the device and site that began it.
CREATE TABLE fleet_ota_attempts (
  attempt_id      uuid PRIMARY KEY,
  seq             integer NOT NULL,
  site            text NOT NULL,
  serial          text NOT NULL,
  product         text NOT NULL,
  from_version    text,
  package_id      text NOT NULL,
  package_version text NOT NULL,
  package_sha256  text NOT NULL,
  phase           text NOT NULL,
  status          smallint,
  status_name     text,
  message         text,
  bytes_done      bigint NOT NULL,
  bytes_total     bigint NOT NULL,
  slot            text,
  started_at      timestamptz NOT NULL,
  reported_at     timestamptz NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now()
);
-- The rollout view: the newest attempt per device per package.
CREATE INDEX fleet_ota_package ON fleet_ota_attempts (package_id, package_version, site, serial, started_at DESC);
-- The rollout view's station half: jobs per package by status without reading every job.
CREATE INDEX fleet_jobs_package ON fleet_jobs (package_id, package_version, status);
`,
  },
];

/** Stable key of the advisory lock (any constant unique to Flashline's schema). */
const LOCK_KEY = 0x464c_5348; // 'FLSH'

/** Apply every missing migration; returns the versions applied now (empty when up to date). */
export async function migrate(sql: Sql, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  // Under the same lock as the migrations: concurrent `CREATE TABLE IF NOT EXISTS` is not safe in PostgreSQL
  // (two stations starting at once race in the catalog: duplicate table, type or pg_type key).
  await sql.begin(async (tx) => {
    await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
    await tx`CREATE TABLE IF NOT EXISTS fleet_schema_migrations (
      version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`;
  });
  const applied: number[] = [];
  for (const m of migrations) {
    const done = await sql.begin(async (tx) => {
      await tx`SELECT pg_advisory_xact_lock(${LOCK_KEY})`;
      const [row] = await tx`SELECT 1 FROM fleet_schema_migrations WHERE version = ${m.version}`;
      if (row) return false;
      await tx.unsafe(m.sql);
      await tx`INSERT INTO fleet_schema_migrations (version, name) VALUES (${m.version}, ${m.name})`;
      return true;
    });
    if (done) applied.push(m.version);
  }
  return applied;
}

/** The newest schema version in the database (0 when none). */
export async function schemaVersion(sql: Sql): Promise<number> {
  const [row] = await sql<{ v: number | null }[]>`
    SELECT max(version)::int AS v FROM fleet_schema_migrations`.catch(() => [{ v: 0 }]);
  return row?.v ?? 0;
}
