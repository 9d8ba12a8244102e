/** The report history in the embedded store: paging, index, crash-safe tail, retention, migration, disk faults. */
import assert from 'node:assert/strict';
import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type DiskIo, nodeDisk } from '../../../main/common/station-storage.js';
import type { JobReport } from '../../../main/flash/report.js';
import { ReportStore, retentionFromEnv } from '../../../main/flash/report-store.js';
import { sampleReport } from '../api/report-fixture.js';

const root = mkdtempSync(join(tmpdir(), 'flashline-store-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, String(n++));

const DAY = 86_400_000;
/** Recent enough that the default 90-day retention keeps every report unless a test says otherwise. */
const BASE = Date.now() - DAY;
function report(
  i: number,
  extra: { status?: number; serial?: string; sha?: string; endedAt?: number } = {},
): JobReport {
  const r = sampleReport(
    {
      jobId: `job-${i}`,
      serial: extra.serial ?? `SN${i}`,
      ...(extra.status ? { status: extra.status, statusName: 'booted_old_slot' } : {}),
    },
    new Date(extra.endedAt ?? BASE + i * 1000).toISOString(),
  );
  return { ...r, package: { ...r.package, sha256: extra.sha ?? r.package.sha256 } };
}

describe('report store', () => {
  it('pages newest first with a cursor, filters on the index, counts matches', async () => {
    const store = new ReportStore(fresh(), { segmentRecords: 4 });
    for (let i = 1; i <= 11; i++) await store.save(report(i, i % 3 === 0 ? { status: 42 } : {}));
    const first = await store.page({ limit: 4 });
    assert.deepEqual(
      first.reports.map((r) => r.jobId),
      ['job-11', 'job-10', 'job-9', 'job-8'],
    );
    assert.equal(first.total, 11);
    assert.equal(first.matched, 11);
    assert.notEqual(first.nextCursor, null);
    const seen = [...first.reports];
    for (let cursor = first.nextCursor; cursor !== null; ) {
      const page = await store.page({ limit: 4, cursor });
      seen.push(...page.reports);
      cursor = page.nextCursor;
    }
    assert.deepEqual(
      seen.map((r) => r.jobId),
      Array.from({ length: 11 }, (_, i) => `job-${11 - i}`),
    );
    const failed = await store.page({ outcome: 'failed', limit: 10 });
    assert.deepEqual(
      failed.reports.map((r) => r.jobId),
      ['job-9', 'job-6', 'job-3'],
    );
    assert.equal(failed.matched, 3);
    assert.deepEqual(
      (await store.page({ text: 'sn10', limit: 10 })).reports.map((r) => r.jobId),
      ['job-10'],
    );
    assert.equal((await store.get('job-5'))?.device.serial, 'SN5');
    // Saving the same job again is a no-op: one report per job id.
    await store.save(report(5));
    assert.equal(await store.count(), 11);
  });

  it('reopens from the segment indexes and rebuilds a damaged one', async () => {
    const dir = fresh();
    const store = new ReportStore(dir, { segmentRecords: 3 });
    for (let i = 1; i <= 8; i++) await store.save(report(i));
    await store.close();
    const indexes = readdirSync(dir).filter((f) => f.endsWith('.idx.json'));
    assert.equal(indexes.length, 2, 'two sealed segments have an index');
    writeFileSync(join(dir, indexes[0] as string), '{ damaged');
    const again = new ReportStore(dir, { segmentRecords: 3 });
    assert.equal(await again.count(), 8);
    assert.deepEqual(
      (await again.list()).map((r) => r.jobId),
      Array.from({ length: 8 }, (_, i) => `job-${i + 1}`),
    );
    assert.doesNotThrow(() => JSON.parse(readFileSync(join(dir, indexes[0] as string), 'utf8')));
  });

  it('drops a torn last line on open (never fatal) and appends cleanly after it', async () => {
    const dir = fresh();
    const store = new ReportStore(dir);
    await store.save(report(1));
    await store.save(report(2));
    const [segment] = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
    appendFileSync(join(dir, segment as string), '{"jobId":"job-3","dev');
    const again = new ReportStore(dir);
    assert.equal(await again.count(), 2);
    await again.save(report(4));
    const third = new ReportStore(dir);
    assert.deepEqual(
      (await third.list()).map((r) => r.jobId),
      ['job-1', 'job-2', 'job-4'],
    );
  });

  it('keeps reports within the count and age bounds by dropping whole old segments', async () => {
    const store = new ReportStore(fresh(), { segmentRecords: 4, retention: { maxReports: 8 } });
    for (let i = 1; i <= 30; i++) await store.save(report(i));
    const count = await store.count();
    assert.ok(count >= 8 && count <= 12, `kept ${count}`);
    assert.equal((await store.page({ limit: 1 })).reports[0]?.jobId, 'job-30');

    const now = Date.UTC(2026, 5, 1);
    const aged = new ReportStore(fresh(), {
      segmentRecords: 2,
      retention: { maxAgeDays: 90 },
      now: () => now,
    });
    // Two segments older than 90 days, then two recent ones.
    for (let i = 1; i <= 4; i++) await aged.save(report(i, { endedAt: now - (100 - i) * DAY }));
    for (let i = 5; i <= 8; i++) await aged.save(report(i, { endedAt: now - i * DAY }));
    await aged.prune();
    assert.deepEqual(
      (await aged.list()).map((r) => r.jobId),
      ['job-5', 'job-6', 'job-7', 'job-8'],
    );
  });

  it('never prunes a report the sync target has not taken', async () => {
    let synced = 0;
    const store = new ReportStore(fresh(), {
      segmentRecords: 2,
      retention: { maxReports: 2 },
      syncTarget: { syncedThrough: async () => synced },
    });
    for (let i = 1; i <= 8; i++) await store.save(report(i));
    assert.equal(await store.count(), 8, 'nothing synced: nothing dropped');
    synced = 4;
    await store.prune();
    assert.deepEqual(
      (await store.list()).map((r) => r.jobId),
      ['job-5', 'job-6', 'job-7', 'job-8'],
    );
  });

  it('serves flashedSerials from the index and forgets pruned ones', async () => {
    const store = new ReportStore(fresh(), { segmentRecords: 2, retention: { maxReports: 2 } });
    await store.save(report(1, { serial: 'A', sha: 'p1' }));
    await store.save(report(2, { serial: 'B', sha: 'p1', status: 42 }));
    await store.save(report(3, { serial: 'C', sha: 'p2' }));
    assert.deepEqual([...(await store.flashedSerials('p1'))], ['A']);
    for (let i = 4; i <= 9; i++) await store.save(report(i, { sha: 'p3' }));
    assert.deepEqual([...(await store.flashedSerials('p1'))], []);
    assert.equal((await store.flashedSerials('p3')).size >= 2, true);
  });

  it('moves the reports of the one-file-per-report layout in, keeping unreadable files', async () => {
    const home = fresh();
    const legacy = join(home, 'reports');
    mkdirSync(legacy, { recursive: true });
    for (const i of [3, 1, 2])
      writeFileSync(join(legacy, `2026-06-01_job-${i}.json`), JSON.stringify(report(i)));
    writeFileSync(join(legacy, 'broken.json'), '{ not json');
    const store = ReportStore.forHome(home);
    assert.deepEqual(
      (await store.list()).map((r) => r.jobId),
      ['job-1', 'job-2', 'job-3'],
    );
    assert.deepEqual(readdirSync(legacy), ['broken.json']);
    assert.equal(await ReportStore.forHome(home).count(), 3, 'migrated once');
  });

  it('turns a full disk into a readable error and leaves no half record behind', async () => {
    const dir = fresh();
    let failNext = false;
    const disk: DiskIo = {
      async open(path, flags, mode) {
        const handle = await nodeDisk.open(path, flags, mode);
        if (!failNext) return handle;
        failNext = false;
        return new Proxy(handle, {
          get(target, prop) {
            if (prop === 'write')
              return async (buf: Buffer, off: number, _len: number, pos: number) => {
                // Half the record reaches the disk, then it is full.
                await target.write(buf, off, Math.floor(buf.length / 2), pos);
                throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
              };
            const v = Reflect.get(target, prop) as unknown;
            return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
          },
        }) as FileHandle;
      },
    };
    const store = new ReportStore(dir, { disk });
    await store.save(report(1));
    failNext = true;
    await assert.rejects(store.save(report(2)), (err: Error & { code?: unknown }) => {
      assert.equal(err.code, 'station_storage');
      assert.match(err.message, /could not write the job report: the disk is full \(ENOSPC\)/);
      return true;
    });
    await store.save(report(3));
    assert.deepEqual(
      (await new ReportStore(dir).list()).map((r) => r.jobId),
      ['job-1', 'job-3'],
    );
  });

  it('reads retention from the environment and refuses nonsense', () => {
    assert.deepEqual(retentionFromEnv({ FLASHLINE_RETENTION_DAYS: '30' }), { maxAgeDays: 30 });
    assert.throws(
      () => retentionFromEnv({ FLASHLINE_RETENTION_REPORTS: 'lots' }),
      /FLASHLINE_RETENTION_REPORTS='lots' is not a whole number of reports/,
    );
  });
});
