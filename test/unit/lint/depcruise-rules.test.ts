/**
 * The house plan's import rules (.dependency-cruiser.cjs) are active: dependency-cruiser, run with the
 * real config over small fixtures that each break one rule, reports exactly that rule; a fixture that
 * follows the rules and the real tree pass.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = new URL('../../../', import.meta.url).pathname;
const depcruise = join(root, 'node_modules', '.bin', 'depcruise');
const config = join(root, '.dependency-cruiser.cjs');
const fixtures = join(root, 'test', 'fixtures', 'depcruise');

interface Violation {
  readonly rule: { readonly name: string };
  readonly from: string;
  readonly to: string;
}

async function violations(fixture: string): Promise<Violation[]> {
  const cwd = join(fixtures, fixture);
  const folders = ['main', 'renderer', 'electron', 'virtual-device'].filter((f) => existsSync(join(cwd, f)));
  // Exit status is non-zero when rules are broken; the JSON report is what we read.
  const out = await run(depcruise, ['--config', config, '--output-type', 'json', ...folders], {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
  }).catch((err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }));
  const report = JSON.parse(out.stdout) as { summary: { violations: Violation[] } };
  return report.summary.violations;
}

const cases: readonly (readonly [fixture: string, rules: readonly string[], from: string])[] = [
  ['renderer-value-import', ['renderer-only-types-from-api'], 'renderer/src/app.ts'],
  ['renderer-foreign-types', ['renderer-types-only-api'], 'renderer/src/app.ts'],
  ['renderer-node', ['renderer-no-node'], 'renderer/src/app.ts'],
  [
    'main-imports-electron',
    ['electron-only-in-shell', 'electron-types-only-in-shell'],
    'main/devices/usb.ts',
  ],
  ['flash-imports-virtual-device', ['main-not-virtual-device'], 'main/flash/engine.ts'],
  ['flash-imports-usb', ['engine-no-native-backends'], 'main/flash/engine.ts'],
  ['cycle', ['no-cycles'], 'main/devices/a.ts'],
  ['product-imports-fake', ['product-no-test-fakes'], 'main/devices/usb.ts'],
];

// Concurrent: each case is a separate depcruise process, mostly start-up time.
describe('import-direction rules', { concurrency: true }, () => {
  for (const [fixture, rules, from] of cases) {
    test(`${fixture} breaks ${rules.join(' + ')}`, async () => {
      const found = await violations(fixture);
      assert.deepEqual(
        [...new Set(found.map((v) => v.rule.name))].sort(),
        [...rules].sort(),
        JSON.stringify(found),
      );
      assert.ok(
        found.some((v) => v.from === from),
        `a violation from ${from}`,
      );
    });
  }

  test('type-only imports from main/api are allowed in the renderer', async () => {
    assert.deepEqual(await violations('clean'), []);
  });

  test('the real tree follows the rules', async () => {
    const { stdout } = await run(process.execPath, ['scripts/depcruise.mjs'], {
      cwd: root,
      maxBuffer: 16 * 1024 * 1024,
    });
    assert.match(stdout, /no dependency violations found/);
  });
});
