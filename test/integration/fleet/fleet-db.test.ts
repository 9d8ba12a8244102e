/**
 * The database half of the fleet against a real PostgreSQL (started by the test): migrations applied once
 * however many stations race to apply them; the outbox ships a station's history exactly once, resends
 * harmlessly, survives the database going away and keeps unsynced reports from retention; unit claims are
 * atomic across stations and fall back (flagged, checked at sync) when the database is down; the queries
 * filter, page, count and list stations.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import postgres from 'postgres';
import { ReportStore } from '../../../main/flash/report-store.js';
import { PgUnitClaims } from '../../../main/fleet/claims.js';
import { MIGRATIONS, migrate, schemaVersion } from '../../../main/fleet/migrations.js';
import { Outbox } from '../../../main/fleet/outbox.js';
import { OutboxStateFile, readOutboxState } from '../../../main/fleet/outbox-state.js';
import { PgFleetQueries } from '../../../main/fleet/queries.js';
import { fakeReport } from '../../support/job-reports.js';
import { type PgCluster, startPostgres } from '../../support/postgres.js';
import { tempDir } from '../flash/helpers.js';

const tmp = tempDir('flashline-fleetdb-');
let pg: PgCluster;
let sql: postgres.Sql;

before(async () => {
  pg = await startPostgres();
  sql = postgres(pg.url, { max: 4, onnotice: () => undefined });
});
after(async () => {
  await sql?.end({ timeout: 2 });
  await pg?.destroy();
  tmp.cleanup();
});

function station(name: string, db: postgres.Sql = sql) {
  const home = join(tmp.dir, name);
  const state = new OutboxStateFile(home);
  const reports = ReportStore.forHome(home);
  const outbox = new Outbox({ sql: db, dbUrl: pg.url, identity: { station: name, site: 'lab' }, state });
  outbox.attach(reports);
  const claims = new PgUnitClaims(db, name, pg.url, state);
  return { home, state, reports, outbox, claims };
}

describe('fleet database', () => {
  it('migrates once when eight stations migrate at the same moment, and again is a no-op', async () => {
    const pools = Array.from({ length: 8 }, () => postgres(pg.url, { max: 1, onnotice: () => undefined }));
    try {
      const applied = await Promise.all(pools.map((p) => migrate(p)));
      assert.deepEqual(
        applied.flat(),
        MIGRATIONS.map((m) => m.version),
      );
      assert.deepEqual(await migrate(sql), []);
      assert.equal(await schemaVersion(sql), MIGRATIONS.at(-1)?.version);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
    }
  });

  it('ships every report once, with the server receive time; a resend from cursor 0 adds nothing', async () => {
    const s = station('ship');
    await fs.mkdir(s.home, { recursive: true });
    for (let i = 0; i < 450; i++)
      await s.reports.save(fakeReport({ serial: `SHIP${i}`, status: i % 10 === 0 ? 42 : 0 }));
    assert.equal(await s.reports.backlog(0), 450);
    assert.deepEqual(await s.outbox.syncNow(), { sent: 450, duplicates: 0 });
    assert.equal(await s.reports.backlog((await readOutboxState(s.home)).syncedThrough), 0);
    // A crash between the commit and the cursor write sends the same batch again: nothing changes.
    await fs.writeFile(
      join(s.home, 'fleet-outbox.json'),
      JSON.stringify({ syncedThrough: 0, pendingChecks: [], duplicates: [] }),
    );
    assert.equal((await s.outbox.syncNow()).sent, 450);
    const [row] = await sql<{ n: number; distinct_jobs: number; skew: boolean }[]>`
      SELECT count(*)::int AS n, count(DISTINCT job_id)::int AS distinct_jobs,
             bool_and(received_at >= ended_at) AS skew FROM fleet_jobs WHERE station = 'ship'`;
    assert.deepEqual(row, { n: 450, distinct_jobs: 450, skew: true });
    await s.reports.close();
  });

  it('claims a unit for exactly one of eight racing stations; a failed job releases it', async () => {
    const stations = Array.from({ length: 8 }, (_, i) => station(`race${i}`));
    const results = await Promise.all(
      stations.map((s, i) =>
        s.claims.claim({
          jobId: `job-race-${i}`,
          deviceId: 'd',
          serial: 'RACE1',
          packageSha256: 'b'.repeat(64),
        }),
      ),
    );
    const won = results.filter((r) => r.outcome === 'claimed');
    const refused = results.filter((r) => r.outcome === 'refused');
    assert.equal(won.length, 1);
    assert.equal(refused.length, 7);
    assert.match(
      refused[0]?.outcome === 'refused' ? refused[0].reason : '',
      /RACE1 is being flashed with this package on station race\d/,
    );
    const winner = stations[results.findIndex((r) => r.outcome === 'claimed')]!;
    const loser = stations.find((s) => s !== winner)!;
    assert.match((await loser.claims.heldElsewhere('RACE1', 'b'.repeat(64))) ?? '', /being flashed/);
    assert.equal(await winner.claims.heldElsewhere('RACE1', 'b'.repeat(64)), undefined);
    // The winner's job fails: its report releases the claim and another station may take the unit.
    const jobId = (
      await sql<{ job_id: string }[]>`SELECT job_id FROM fleet_claims WHERE serial = 'RACE1'`
    )[0]!.job_id;
    await winner.reports.save(fakeReport({ jobId, serial: 'RACE1', status: 42, sha256: 'b'.repeat(64) }));
    await winner.outbox.syncNow();
    assert.deepEqual(
      await loser.claims.claim({
        jobId: 'job-race-next',
        deviceId: 'd',
        serial: 'RACE1',
        packageSha256: 'b'.repeat(64),
      }),
      { outcome: 'claimed' },
    );
    await loser.reports.save(fakeReport({ jobId: 'job-race-next', serial: 'RACE1', sha256: 'b'.repeat(64) }));
    await loser.outbox.syncNow();
    const [claim] = await sql`SELECT station, state FROM fleet_claims WHERE serial = 'RACE1'`;
    assert.deepEqual({ ...claim }, { station: `race${stations.indexOf(loser)}`, state: 'passed' });
    assert.match(
      (await winner.claims.heldElsewhere('RACE1', 'b'.repeat(64))) ?? '',
      /already flashed with this package on station/,
    );
    for (const s of stations) await s.reports.close();
  });

  it('database down: claims fall back and are flagged, the error is recorded, nothing is lost; at sync the duplicate is found', async () => {
    const a = station('down-a');
    const b = station('down-b');
    const sha = 'c'.repeat(64);
    // b flashed DUP1 properly while the database was up.
    assert.deepEqual(
      await b.claims.claim({ jobId: 'b-1', deviceId: 'd', serial: 'DUP1', packageSha256: sha }),
      { outcome: 'claimed' },
    );
    await b.reports.save(fakeReport({ jobId: 'b-1', serial: 'DUP1', sha256: sha }));
    await b.outbox.syncNow();
    await pg.stop();
    try {
      const r = await a.claims.claim({ jobId: 'a-1', deviceId: 'd', serial: 'DUP1', packageSha256: sha });
      assert.equal(r.outcome, 'unchecked');
      assert.match(r.outcome === 'unchecked' ? r.reason : '', /not reachable/);
      assert.equal(await a.claims.heldElsewhere('DUP1', sha), undefined);
      await a.claims.claim({ jobId: 'a-2', deviceId: 'd', serial: 'FRESH1', packageSha256: sha });
      await a.reports.save(fakeReport({ jobId: 'a-1', serial: 'DUP1', sha256: sha }));
      await a.reports.save(fakeReport({ jobId: 'a-2', serial: 'FRESH1', sha256: sha }));
      await assert.rejects(a.outbox.syncNow());
      const st = await readOutboxState(a.home);
      assert.match(st.lastError ?? '', /not reachable/);
      assert.deepEqual(st.pendingChecks.sort(), ['a-1', 'a-2']);
      // Retention never drops what the outbox has not taken.
      assert.equal(await a.reports.backlog(st.syncedThrough), 2);
    } finally {
      await pg.start();
    }
    assert.deepEqual(await a.outbox.syncNow(), { sent: 2, duplicates: 1 });
    const st = await readOutboxState(a.home);
    assert.equal(st.lastError, undefined);
    assert.deepEqual(st.pendingChecks, []);
    assert.deepEqual(st.duplicates, [{ jobId: 'a-1', serial: 'DUP1', heldBy: 'down-b' }]);
    const rows = await sql<{ job_id: string; duplicate_check: string | null }[]>`
      SELECT job_id, duplicate_check FROM fleet_jobs WHERE job_id IN ('a-1', 'a-2') ORDER BY job_id`;
    assert.deepEqual(
      rows.map((r) => [r.job_id, r.duplicate_check]),
      [
        ['a-1', 'duplicate'],
        ['a-2', null],
      ],
    );
    const [fresh] = await sql`SELECT station, state FROM fleet_claims WHERE serial = 'FRESH1'`;
    assert.deepEqual({ ...fresh }, { station: 'down-a', state: 'passed' });
    await a.reports.close();
    await b.reports.close();
  });

  it('searches, pages, counts and lists stations from the central store', async () => {
    const s = station('query');
    const base = Date.parse('2026-01-10T08:00:00Z');
    for (let i = 0; i < 60; i++) {
      await s.reports.save(
        fakeReport({
          serial: `Q${i}`,
          status: i % 3 === 0 ? 42 : i % 5 === 0 ? 11 : 0,
          product: i % 2 ? 'phone-x' : 'phone-y',
          endedAt: new Date(base + i * 60_000),
        }),
      );
    }
    await s.outbox.syncNow();
    const q = new PgFleetQueries(sql, false);
    const since = new Date(base).toISOString();
    const until = new Date(base + 3_600_000).toISOString();
    const all: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await q.searchJobs({ station: 'query', since, until }, cursor, 7);
      all.push(...page.jobs.map((j) => j.serial ?? ''));
      cursor = page.nextCursor;
    } while (cursor);
    assert.equal(all.length, 60);
    assert.equal(new Set(all).size, 60);
    assert.equal(all[0], 'Q59');
    const fourX = await q.searchJobs({ station: 'query', product: 'phone-x', status: '4x' }, null, 100);
    assert.deepEqual(
      fourX.jobs.map((j) => j.serial).sort(),
      Array.from({ length: 60 }, (_, i) => i)
        .filter((i) => i % 2 === 1 && i % 3 === 0)
        .map((i) => `Q${i}`)
        .sort(),
    );
    assert.ok(fourX.jobs.every((j) => j.status === 42 && j.station === 'query' && j.site === 'lab'));
    // The search box: serial prefix (any case), or a product exactly.
    assert.equal((await q.searchJobs({ station: 'query', text: 'q5' }, null, 100)).jobs.length, 11);
    assert.equal((await q.searchJobs({ station: 'query', text: 'phone-x' }, null, 100)).jobs.length, 30);
    assert.equal((await q.searchJobs({ serial: 'q7' }, null, 100)).jobs[0]?.serial, 'Q7');
    const stats = await q.stats({ since, bucketMinutes: 15 });
    const mine = stats.buckets.filter((b) => b.station === 'query');
    assert.deepEqual(
      mine.map((b) => b.units),
      [15, 15, 15, 15],
    );
    assert.equal(
      mine.reduce((a, b) => a + b.failed, 0),
      20 + 8,
    );
    assert.ok(stats.byCode.some((c) => c.status === 42 && c.statusName === 'booted_old_slot'));
    const failures = await q.lastFailures(3);
    assert.equal(failures.length, 3);
    assert.ok(failures.every((f) => f.status !== 0));
    const stations = await q.stations();
    assert.ok(
      stations.some(
        (x) =>
          x.station === 'query' &&
          !Number.isNaN(Date.parse(x.lastSyncAt)) &&
          x.site === 'lab' &&
          x.lastJobAt === new Date(base + 59 * 60_000).toISOString(),
      ),
    );
    await assert.rejects(q.searchJobs({ status: 'broken' }, null, 10), /status is ok, failed/);
    await assert.rejects(q.searchJobs({}, 'not-a-cursor', 10), /cursor/);
    await assert.rejects(q.searchJobs({}, null, 0), /page size/);
    await s.reports.close();
  });

  it('pages and exports rows written by other tools with microsecond times, each once', async () => {
    await sql`
      INSERT INTO fleet_jobs (job_id, station, site, device_id, serial, package_id, package_version,
        package_sha256, rollback_index, status, status_name, message, started_at, ended_at, bytes_written, rate,
        device, stages)
      SELECT 'us-' || g, 'micro', 'lab', 'd', 'US' || g, 'p', '1', 'x', 1, 0, 'ok', '',
        timestamptz '2025-06-01 00:00:00.123000+00', timestamptz '2025-06-01 00:00:00.123000+00' + g * interval '1 microsecond',
        0, 0, '{}', '[]'
      FROM generate_series(1, 7) AS g`;
    const q = new PgFleetQueries(sql, false);
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await q.searchJobs({ station: 'micro' }, cursor, 2);
      seen.push(...page.jobs.map((j) => j.jobId));
      cursor = page.nextCursor;
    } while (cursor);
    assert.deepEqual(seen, ['us-7', 'us-6', 'us-5', 'us-4', 'us-3', 'us-2', 'us-1']);
    const exported: string[] = [];
    for await (const j of q.allJobs({ station: 'micro' }, 3)) exported.push(j.jobId);
    assert.deepEqual(exported, ['us-1', 'us-2', 'us-3', 'us-4', 'us-5', 'us-6', 'us-7']);
  });
});
