/**
 * The built desktop main process (dist/electron/main.cjs), run in Node with a stand-in for the 'electron'
 * module (electron-stub.cjs; the real binary cannot run here): it asks for a locked-down window, denies
 * permissions and new windows, answers IPC only from the app's own top frame — with the real router — and
 * serves app:// only from the renderer folder, with the CSP.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

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
}

test('the built Electron main process wires every security decision', () => {
  const build = spawnSync(process.execPath, ['scripts/build.mjs', '--renderer', '--electron'], {
    cwd: root,
    encoding: 'utf8',
    timeout: 180_000,
  });
  assert.equal(build.status, 0, build.stderr);
  const home = mkdtempSync(join(tmpdir(), 'flashline-electron-'));
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
    assert.deepEqual(call('ipcMain.handle'), ['ipcMain.handle', 'flashline:pick-package']);

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
