/** The electron-security step really fails on unjustified findings and on stale justifications. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';

const root = new URL('../../../', import.meta.url).pathname;
const insecure = join(root, 'test', 'fixtures', 'electronegativity', 'insecure');

function check(justifications: unknown): { status: number | null; out: string } {
  const dir = mkdtempSync(join(tmpdir(), 'flashline-eneg-'));
  try {
    const file = join(dir, 'j.json');
    writeFileSync(file, JSON.stringify(justifications));
    const r = spawnSync(
      process.execPath,
      ['scripts/electron-security.mjs', '--input', insecure, '--justifications', file],
      { cwd: root, encoding: 'utf8', timeout: 120_000 },
    );
    return { status: r.status, out: r.stdout + r.stderr };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const because = 'Deliberate in this fixture: it exists to prove the scanner runs and reports.';

test('an insecure shell fails, naming each unjustified finding', () => {
  const r = check([]);
  assert.equal(r.status, 1, r.out);
  assert.match(r.out, /UNJUSTIFIED CONTEXT_ISOLATION_JS_CHECK .*main\.js:5/);
  assert.match(r.out, /UNJUSTIFIED SANDBOX_JS_CHECK/);
  assert.match(r.out, /UNJUSTIFIED LIMIT_NAVIGATION_GLOBAL_CHECK/);
});

test('findings justified in writing pass; a stale or empty justification fails', () => {
  const ids = [
    ['CSP_GLOBAL_CHECK', 'N/A'],
    ['LIMIT_NAVIGATION_GLOBAL_CHECK', 'N/A'],
    ['PERMISSION_REQUEST_HANDLER_GLOBAL_CHECK', 'N/A'],
    ['HTTP_RESOURCES_JS_CHECK', 'main.js'],
    ['AUXCLICK_JS_CHECK', 'main.js'],
    ['CONTEXT_ISOLATION_JS_CHECK', 'main.js'],
    ['SANDBOX_JS_CHECK', 'main.js'],
  ].map(([id, file]) => ({ id, file, justification: because }));
  const all = check(ids);
  assert.equal(all.status, 0, all.out);
  assert.match(all.out, /7 findings, 7 justified/);

  const broken = check([
    ...ids.map((j, i) => (i === 0 ? { ...j, justification: 'ok' } : j)),
    { id: 'NODE_INTEGRATION_JS_CHECK', file: 'gone.js', justification: because },
  ]);
  assert.equal(broken.status, 1);
  assert.match(broken.out, /stale justification: NODE_INTEGRATION_JS_CHECK in gone\.js/);
  assert.match(broken.out, /CSP_GLOBAL_CHECK in N\/A is missing or too short/);
});
