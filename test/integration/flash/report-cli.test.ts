/**
 * `flashline report export` from a real home: the one-file-per-report layout of earlier versions is moved
 * into the store on first use, and the export (streamed from the store) is byte for byte the service's.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { reportsToCsv } from '../../../main/flash/report-store.js';
import { sampleReport } from '../../unit/api/report-fixture.js';
import { tempDir } from './helpers.js';

const cli = fileURLToPath(new URL('../../../bin/flashline.js', import.meta.url));

describe('flashline report export', () => {
  it('migrates old reports and exports CSV and JSON, filtered by --since', () => {
    const tmp = tempDir('flashline-report-cli-');
    try {
      const home = join(tmp.dir, 'home');
      const old = sampleReport({ jobId: 'j-old', serial: 'S1' }, '2026-01-01T10:00:00.000Z');
      const recent = sampleReport(
        { jobId: 'j-new', serial: 'S2', status: 42, statusName: 'booted_old_slot' },
        '2026-06-01T10:00:00.000Z',
      );
      mkdirSync(join(home, 'reports'), { recursive: true });
      // File names in the opposite order of the end times: the history is ordered by end time.
      writeFileSync(join(home, 'reports', 'a_j-new.json'), JSON.stringify(recent));
      writeFileSync(join(home, 'reports', 'b_j-old.json'), JSON.stringify(old));
      const run = (...args: string[]) =>
        spawnSync(process.execPath, [cli, 'report', 'export', ...args], {
          encoding: 'utf8',
          env: { ...process.env, FLASHLINE_HOME: home, FLASHLINE_RETENTION_DAYS: '100000' },
          timeout: 60_000,
        });
      const csv = run('--format', 'csv');
      assert.equal(csv.status, 0, csv.stderr);
      assert.equal(csv.stdout, reportsToCsv([old, recent]));
      assert.ok(!existsSync(join(home, 'reports')), 'the old layout was moved into the store');
      const out = join(tmp.dir, 'out.json');
      const json = run('--format', 'json', '--since', '2026-03-01', '--out', out);
      assert.equal(json.status, 0, json.stderr);
      assert.match(json.stderr, /1 report\(s\) written/);
      assert.equal(readFileSync(out, 'utf8'), `${JSON.stringify([recent], null, 2)}\n`);
      const none = run('--format', 'json', '--since', '2027-01-01');
      assert.equal(none.stdout, '[]\n');
    } finally {
      tmp.cleanup();
    }
  });
});
