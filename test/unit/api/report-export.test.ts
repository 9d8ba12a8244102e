/** jobs.history and jobs.exportReports: the service filters the History screen and makes its exports alike. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { exportReports } from '../../../main/api/report-export.js';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { reportsToCsv } from '../../../main/flash/report-store.js';
import { FlashService } from '../../../main/flash/service.js';
import { sampleReport } from './report-fixture.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-export-'));
after(() => rmSync(home, { recursive: true, force: true }));

describe('jobs.exportReports', async () => {
  const flash = new FlashService({ home });
  const ok = sampleReport({ jobId: 'j1', serial: 'S-OK' }, '2026-06-01T10:00:00.000Z');
  const bad = sampleReport(
    { jobId: 'j2', serial: 'S-BAD', status: 42, statusName: 'booted_old_slot', message: '=HYPERLINK(1)' },
    '2026-06-01T11:00:00.000Z',
  );
  await flash.reports.save(ok);
  await flash.reports.save(bad);
  const caller = createCallerFactory(appRouter)({
    version: 't',
    mode: 'station',
    devices: new DeviceRegistry(),
    demo: false,
    flash,
  });

  it('exports CSV the same as `flashline report export`, filtered by text', async () => {
    const all = await caller.jobs.exportReports({ format: 'csv' });
    assert.equal(all.count, 2);
    assert.equal(all.mediaType, 'text/csv');
    assert.equal(all.text, reportsToCsv([ok, bad]));
    const one = await caller.jobs.exportReports({ format: 'csv', text: 's-bad' });
    assert.equal(one.count, 1);
    assert.equal(one.text, reportsToCsv([bad]));
    // Device-provided text cannot become a spreadsheet formula.
    assert.match(one.text, /'=HYPERLINK\(1\)/);
  });

  it('exports JSON filtered by outcome, with a dated file name', async () => {
    const made = await exportReports(
      flash,
      { format: 'json', outcome: 'ok' },
      new Date('2026-06-02T08:09:10Z'),
    );
    assert.equal(made.fileName, 'flashline-history-20260602T080910.json');
    assert.equal(made.mediaType, 'application/json');
    assert.deepEqual(JSON.parse(made.text), [ok]);
    assert.equal((await caller.jobs.exportReports({ format: 'json', outcome: 'failed' })).count, 1);
  });

  it('lists the History screen rows with the same filter as the export, newest first', async () => {
    const all = await caller.jobs.history({});
    assert.deepEqual(
      all.reports.map((r) => r.jobId),
      ['j2', 'j1'],
    );
    assert.equal(all.total, 2);
    for (const filter of [
      { text: 's-bad' },
      { outcome: 'ok' as const },
      { text: 'booted', outcome: 'failed' as const },
    ]) {
      const shown = await caller.jobs.history(filter);
      const file = await caller.jobs.exportReports({ format: 'json', ...filter });
      assert.equal(shown.total, 2);
      assert.deepEqual(
        (JSON.parse(file.text) as { jobId: string }[]).map((r) => r.jobId).sort(),
        shown.reports.map((r) => r.jobId).sort(),
        JSON.stringify(filter),
      );
      assert.equal(shown.reports.length, 1);
    }
    await assert.rejects(caller.jobs.history({ text: 'x'.repeat(201) }), /text/);
  });

  it('refuses an unknown format or extra fields as bad input', async () => {
    await assert.rejects(caller.jobs.exportReports({ format: 'xml' } as never), /format/);
    await assert.rejects(caller.jobs.exportReports({ format: 'csv', content: 'x' } as never));
  });
});
