/**
 * The built desktop main process (dist/electron/main.cjs), run in Node with a stand-in for the 'electron'
 * module (electron-stub.cjs; the real binary cannot run here): it asks for a locked-down window, denies
 * permissions and new windows, answers IPC only from the app's own top frame — with the real router — and
 * serves app:// only from the renderer folder, with the CSP.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { reportsToCsv } from '../../../main/flash/report-store.js';
import { sampleReport } from '../api/report-fixture.js';

const root = new URL('../../../', import.meta.url).pathname;

interface Report {
  calls: [string, ...unknown[]][];
  webPreferences: { preload: string } & Record<string, unknown>;
  replies: {
    url: string;
    channel: string;
    message: { kind: string; id: number; data?: unknown; error?: unknown };
  }[];
  protocol: { url: string; status: number; csp: string | null }[];
  exports: { saved: boolean; path?: string; count?: number; message?: string }[];
  dialogs: { defaultPath: string; filters: { extensions: string[] }[] }[];
}

test('the built Electron main process wires every security decision', () => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--renderer', '--electron'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(build.status, 0, build.stderr);
  const home = mkdtempSync(join(tmpdir(), 'flashline-electron-'));
  // Two reports in the history the desktop export reads.
  const reports = [
    sampleReport({ jobId: 'job-ok', serial: 'S-OK' }, '2026-06-01T10:00:00.000Z'),
    sampleReport(
      { jobId: 'job-bad', serial: 'S-BAD', status: 42, statusName: 'booted_old_slot', message: '=cmd' },
      '2026-06-01T11:00:00.000Z',
    ),
  ];
  mkdirSync(join(home, 'reports'));
  for (const r of reports) writeFileSync(join(home, 'reports', `${r.jobId}.json`), JSON.stringify(r));
  try {
    const run = spawnSync(
      process.execPath,
      ['-r', './test/unit/electron/electron-stub.cjs', 'dist/electron/main.cjs'],
      { cwd: root, encoding: 'utf8', timeout: 120_000, env: { ...process.env, FLASHLINE_HOME: home } },
    );
    const line = run.stdout.split('\n').find((l) => l.startsWith('REPORT '));
    assert.ok(line, `no report; stderr: ${run.stderr}`);
    const report = JSON.parse(line.slice('REPORT '.length)) as Report;
    const call = (name: string) => report.calls.find((c) => c[0] === name);

    assert.deepEqual(report.webPreferences, {
      ...report.webPreferences,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      webviewTag: false,
    });
    assert.match(report.webPreferences.preload, /dist\/electron\/preload\.cjs$/);
    assert.ok(call('enableSandbox'));
    assert.deepEqual(call('permissionRequest'), ['permissionRequest', false]);
    assert.deepEqual(call('permissionCheck'), ['permissionCheck', false]);
    assert.deepEqual(call('devicePermission'), ['devicePermission', false]);
    assert.deepEqual(call('windowOpen'), ['windowOpen', 'deny']);
    assert.ok(call('onHeadersReceived'));
    assert.deepEqual(call('loadURL'), ['loadURL', 'app://flashline/index.html']);
    assert.deepEqual(
      report.calls.filter((c) => c[0] === 'ipcMain.handle'),
      [
        ['ipcMain.handle', 'flashline:pick-package'],
        ['ipcMain.handle', 'flashline:save-export'],
      ],
    );
    // Page-started downloads stay blocked; the export goes through the save dialog below.
    assert.ok(report.calls.some((c) => c[0] === 'session.on' && c[1] === 'will-download'));

    // The desktop export: main makes the file from the service's history and writes it where the dialog says.
    const [csv, json, subFrame, badInput, cancelled] = report.exports;
    assert.deepEqual(csv, { saved: true, path: join(home, 'exports', 'history.csv'), count: 2 });
    assert.equal(readFileSync(join(home, 'exports', 'history.csv'), 'utf8'), reportsToCsv(reports));
    assert.deepEqual(json, { saved: true, path: join(home, 'exports', 'history.json'), count: 1 });
    const saved = JSON.parse(readFileSync(join(home, 'exports', 'history.json'), 'utf8')) as {
      jobId: string;
    }[];
    assert.deepEqual(
      saved.map((r) => r.jobId),
      ['job-bad'],
    );
    assert.equal(subFrame?.saved, false);
    assert.equal(existsSync(join(home, 'exports', 'sub.csv')), false);
    assert.equal(badInput?.saved, false);
    assert.match(badInput?.message ?? '', /not valid/);
    assert.deepEqual(cancelled, { saved: false });
    // Only the two top-frame requests with a valid format and the cancelled one reached the dialog.
    assert.equal(report.dialogs.length, 3);
    assert.match(report.dialogs[0]?.defaultPath ?? '', /^flashline-history-\d{8}T\d{6}\.csv$/);
    assert.deepEqual(report.dialogs[1]?.filters[0]?.extensions, ['json']);
    // Atomic write: no temp file left next to the exports.
    assert.deepEqual(readdirSync(join(home, 'exports')).sort(), ['history.csv', 'history.json']);

    // Requests 2 (sub-frame), 3 (other window) and 4 (top frame on a foreign page) get no answer.
    assert.deepEqual(
      report.replies.map((r) => r.message.id),
      [1, 5],
    );
    assert.ok(
      report.replies.every((r) => r.url === 'app://flashline/index.html' && r.channel === 'flashline:api'),
    );
    const [info, bad] = report.replies;
    assert.ok(info && bad);
    assert.equal((info.message.data as { mode: string }).mode, 'desktop');
    assert.equal(bad.message.kind, 'error');
    assert.equal(
      (bad.message.error as { data: { flashline: { code: string } } }).data.flashline.code,
      'bad_input',
    );

    const [index, traversal, missing] = report.protocol;
    assert.equal(index?.status, 200);
    assert.match(index?.csp ?? '', /^default-src 'none'; script-src 'self'/);
    assert.equal(traversal?.status, 404);
    assert.equal(missing?.status, 404);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});
