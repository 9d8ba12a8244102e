/**
 * `npm run bench -- fleet [--json] [--stations 3] [--reports 2000] [--rows 1000000] [--samples 50]`:
 * against a throw-away PostgreSQL (test/support/postgres.ts), measures
 *   1. ingest: N station outboxes shipping their histories at once, as a ratio to a plain multi-row INSERT
 *      of the same rows from one connection (the ceiling);
 *   2. station-side overhead per job (unit claim + shipping its one report) as a fraction of one flash of
 *      a virtual device measured in the same run;
 *   3. history search latency p50/p99 over `--rows` jobs with the indexes of main/fleet/migrations.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'postgres';
import { startDemoRig } from '../main/cli/commands/demo.js';
import { ReportStore } from '../main/flash/report-store.js';
import { FlashService } from '../main/flash/service.js';
import { PgUnitClaims } from '../main/fleet/claims.js';
import { migrate } from '../main/fleet/migrations.js';
import { Outbox } from '../main/fleet/outbox.js';
import { OutboxStateFile } from '../main/fleet/outbox-state.js';
import { PgFleetQueries } from '../main/fleet/queries.js';
import { JOB_COLUMNS, reportToRow } from '../main/fleet/rows.js';
import { fakeReport } from '../test/support/job-reports.js';
import { startPostgres } from '../test/support/postgres.js';
import { median, option } from './_stats.js';

const MiB = 1024 * 1024;

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)] ?? 0;
}

async function ingest(url: string, dir: string, stations: number, perStation: number) {
  const outboxes = [];
  for (let s = 0; s < stations; s++) {
    const home = join(dir, `station-${s}`);
    const reports = ReportStore.forHome(home);
    for (let i = 0; i < perStation; i++)
      await reports.save(fakeReport({ serial: `ING${s}-${i}`, status: i % 20 ? 0 : 42 }));
    const sql = postgres(url, { max: 2, onnotice: () => undefined });
    const outbox = new Outbox({
      sql,
      dbUrl: url,
      identity: { station: `ingest-${s}`, site: 'bench' },
      state: new OutboxStateFile(home),
    });
    outbox.attach(reports);
    outboxes.push({ outbox, reports, sql });
  }
  const t0 = performance.now();
  await Promise.all(outboxes.map((o) => o.outbox.syncNow()));
  const outboxMs = performance.now() - t0;
  // Ceiling: the same rows, plain multi-row INSERTs of 200 from one connection, no outbox, no claims.
  const sql = postgres(url, { max: 1, onnotice: () => undefined });
  const rows = Array.from({ length: stations * perStation }, (_, i) =>
    reportToRow(fakeReport({ serial: `RAW${i}` }), { station: 'raw', site: 'bench' }, false),
  );
  const t1 = performance.now();
  for (let i = 0; i < rows.length; i += 200) {
    const batch = rows
      .slice(i, i + 200)
      .map((r) => ({ ...r, device: sql.json(r.device), stages: sql.json(r.stages as never) }));
    await sql`INSERT INTO fleet_jobs ${sql(batch as never, ...JOB_COLUMNS)}`;
  }
  const rawMs = performance.now() - t1;
  await sql.end();
  for (const o of outboxes) {
    await o.reports.close();
    await o.sql.end();
  }
  const n = stations * perStation;
  return {
    jobs: n,
    outboxJobsPerSecond: Math.round((n * 1000) / outboxMs),
    rawJobsPerSecond: Math.round((n * 1000) / rawMs),
  };
}

async function overhead(url: string, dir: string, samples: number) {
  // One real flash of a virtual device (small package), for scale.
  const rig = await startDemoRig({
    devices: 1,
    dir: join(dir, 'rig'),
    pkg: { bootSize: MiB, systemSize: 3 * MiB },
  });
  let flashMs: number;
  try {
    const service = new FlashService({ home: join(dir, 'flash-home') });
    const [id] = await service.flash(rig.packagePath, [rig.devices[0]!.address]);
    const report = await service.manager.wait(id!);
    flashMs = Date.parse(report.endedAt) - Date.parse(report.startedAt);
    await service.reports.close();
  } finally {
    await rig.stop();
  }
  const home = join(dir, 'overhead');
  const sql = postgres(url, { max: 2, onnotice: () => undefined });
  const state = new OutboxStateFile(home);
  const claims = new PgUnitClaims(sql, 'overhead', url, state);
  const reports = ReportStore.forHome(home);
  const outbox = new Outbox({ sql, dbUrl: url, identity: { station: 'overhead', site: 'bench' }, state });
  outbox.attach(reports);
  const costs: number[] = [];
  for (let i = 0; i < samples; i++) {
    const report = fakeReport({ serial: `OVH${i}` });
    const t = performance.now();
    await claims.claim({
      jobId: report.jobId,
      deviceId: report.deviceId,
      serial: `OVH${i}`,
      packageSha256: report.package.sha256,
    });
    await outbox.syncNow(); // nothing new: the poll a station does
    await reports.save(report); // the store write happens without a fleet too; counted anyway
    await outbox.syncNow();
    costs.push(performance.now() - t);
  }
  await reports.close();
  await sql.end();
  return { flashMs, perJobMs: Number(median(costs).toFixed(2)) };
}

async function search(url: string, rows: number, samples: number) {
  const sql = postgres(url, { max: 2, onnotice: () => undefined });
  // Server-side generation: 30 days of jobs from 20 stations, 50 products, ~7 % failures.
  await sql`
    INSERT INTO fleet_jobs (job_id, station, site, device_id, serial, product, package_id, package_version,
      package_sha256, rollback_index, status, status_name, message, started_at, ended_at, bytes_written, rate,
      device, stages)
    SELECT 'gen-' || g, 'st' || (g % 20), 'site' || (g % 3), 'tcp:h:' || (g % 100), 'SN' || g, 'product-' || (g % 50),
      'pkg', '2.' || (g % 7), md5((g % 7)::text) || md5('x'), 2,
      CASE WHEN g % 15 = 0 THEN 42 WHEN g % 29 = 0 THEN 11 ELSE 0 END,
      CASE WHEN g % 15 = 0 THEN 'booted_old_slot' WHEN g % 29 = 0 THEN 'link_lost' ELSE 'ok' END, '',
      now() - (g * interval '2592 ms') - interval '30 s', now() - (g * interval '2592 ms'), 4194304, 10000000,
      '{}'::jsonb, '[]'::jsonb
    FROM generate_series(1, ${rows}) AS g`;
  await sql`ANALYZE fleet_jobs`;
  const q = new PgFleetQueries(sql, false);
  const today = new Date(Date.now() - 86_400_000).toISOString();
  const cases: [string, () => Promise<unknown>][] = [
    ['newest page (50)', () => q.searchJobs({}, null, 50)],
    [
      'product X failed with 4x today',
      () => q.searchJobs({ product: 'product-7', status: '4x', since: today }, null, 50),
    ],
    ['one serial', () => q.searchJobs({ serial: `SN${Math.floor(rows / 2)}` }, null, 50)],
    [
      'station, 10th page',
      async () => {
        let c: string | null = null;
        for (let i = 0; i < 10; i++) c = (await q.searchJobs({ station: 'st3' }, c, 50)).nextCursor;
      },
    ],
    ['text "SN12345"', () => q.searchJobs({ text: 'SN12345' }, null, 50)],
    ['last failures (20)', () => q.lastFailures(20)],
    ['stats 24 h, 60-min buckets', () => q.stats({ since: today, bucketMinutes: 60 })],
  ];
  const out = [];
  for (const [name, fn] of cases) {
    await fn(); // warm
    const ms: number[] = [];
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      await fn();
      ms.push(performance.now() - t);
    }
    out.push({
      query: name,
      p50ms: Number(percentile(ms, 50).toFixed(2)),
      p99ms: Number(percentile(ms, 99).toFixed(2)),
    });
  }
  await sql.end();
  return out;
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const stations = Number(option(args, '--stations') ?? 3);
  const perStation = Number(option(args, '--reports') ?? 2000);
  const rows = Number(option(args, '--rows') ?? 1_000_000);
  const samples = Number(option(args, '--samples') ?? 50);
  if (![stations, perStation, rows, samples].every((n) => Number.isInteger(n) && n > 0)) {
    process.stderr.write(
      'usage: npm run bench -- fleet [--json] [--stations N] [--reports N] [--rows N] [--samples N]\n',
    );
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'flashline-bench-fleet-'));
  const pg = await startPostgres();
  try {
    const admin = postgres(pg.url, { max: 1, onnotice: () => undefined });
    await migrate(admin);
    await admin.end();
    const ing = await ingest(pg.url, dir, stations, perStation);
    const ovh = await overhead(pg.url, dir, samples);
    const lat = await search(pg.url, rows, samples);
    const result = {
      ingest: {
        stations,
        ...ing,
        ratioToRawInsert: Number((ing.outboxJobsPerSecond / ing.rawJobsPerSecond).toFixed(3)),
      },
      stationOverhead: { ...ovh, fractionOfFlash: Number((ovh.perJobMs / ovh.flashMs).toFixed(4)) },
      search: { rows, samples, latencies: lat },
    };
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const r = result;
      process.stdout.write(
        `fleet ingest: ${r.ingest.stations} stations × ${perStation} reports: ${r.ingest.outboxJobsPerSecond} jobs/s through the outboxes, ` +
          `${r.ingest.rawJobsPerSecond} jobs/s plain INSERT (ratio ${r.ingest.ratioToRawInsert})\n` +
          `station overhead per job: ${r.stationOverhead.perJobMs} ms (claim + ship) vs ${r.stationOverhead.flashMs} ms for one flash = ${(r.stationOverhead.fractionOfFlash * 100).toFixed(2)} %\n` +
          `search over ${rows} jobs (${samples} samples each):\n`,
      );
      for (const l of lat)
        process.stdout.write(`  ${l.query.padEnd(34)} p50 ${l.p50ms} ms, p99 ${l.p99ms} ms\n`);
    }
    return 0;
  } finally {
    await pg.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}
