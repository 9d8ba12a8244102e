/**
 * bin/flashline.js runs the compiled build in dist/cli and never stale code: a copy of the project in a temp
 * dir (its own dist/cli; node_modules and resources linked) is built on first run, run compiled afterwards,
 * rebuilt when a source changes — by several processes at once too — and falls back to compiling the sources
 * on load when the build cannot be made. FLASHLINE_DEBUG=1 makes the command say why it did not use a build,
 * which is how these tests see which path ran.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import {
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

const project = fileURLToPath(new URL('../../../', import.meta.url));

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function flashline(root: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, 'bin', 'flashline.js'), ...args],
      { env: { ...process.env, FLASHLINE_DEBUG: '1', ...env }, timeout: 120_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : null) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Rewrite a source file and date it 10 s back, so the rebuild that follows records it as settled. */
function edit(root: string, path: string, change: (text: string) => string): void {
  const file = join(root, path);
  writeFileSync(file, change(readFileSync(file, 'utf8')));
  const past = new Date(Date.now() - 10_000);
  utimesSync(file, past, past);
}

describe('the compiled flashline command', () => {
  let root: string;
  const commandsIndex = 'main/cli/commands/index.ts';

  before(() => {
    root = mkdtempSync(join(tmpdir(), 'flashline-cli-build-'));
    for (const part of ['bin', 'main', 'virtual-device', 'package.json', 'tsconfig.json'])
      cpSync(join(project, part), join(root, part), { recursive: true, preserveTimestamps: true });
    cpSync(join(project, 'scripts', 'build-cli.mjs'), join(root, 'scripts', 'build-cli.mjs'), {
      preserveTimestamps: true,
    });
    symlinkSync(join(project, 'node_modules'), join(root, 'node_modules'));
    symlinkSync(join(project, 'resources'), join(root, 'resources'));
    // A version of its own: `--version` then proves the bundle found its project root (package.json).
    edit(root, 'package.json', (t) => t.replace(/"version": "[^"]+"/, '"version": "9.8.7-build-test"'));
  });
  after(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('builds on the first run, then runs the build without rebuilding', async () => {
    const first = await flashline(root, ['--version']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.stdout, '9.8.7-build-test\n');
    assert.match(first.stderr, /no usable build in dist\/cli/);
    const info = JSON.parse(readFileSync(join(root, 'dist', 'cli', 'build.json'), 'utf8')) as {
      entry: string;
      inputs: [string, number, number][];
    };
    assert.ok(existsSync(join(root, 'dist', 'cli', info.entry)));
    assert.ok(info.inputs.some(([p]) => p === commandsIndex));

    const second = await flashline(root, ['--version']);
    assert.equal(second.code, 0, second.stderr);
    assert.equal(second.stdout, '9.8.7-build-test\n');
    assert.equal(second.stderr, '', 'the build is current: nothing rebuilt, no fallback');

    const devices = await flashline(root, ['devices', '--no-usb', '--no-list-serial']);
    assert.equal(devices.code, 0, devices.stderr);
    assert.match(devices.stdout, /No devices found/);
    assert.equal(devices.stderr, '');
  });

  it('runs an edited source at once: the edit is seen and the command rebuilt', async () => {
    edit(root, commandsIndex, (t) =>
      t.replace('list connected devices (USB', 'EDITED-ONCE list devices (USB'),
    );
    const r = await flashline(root, ['--help']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /EDITED-ONCE list devices/);
    assert.match(r.stderr, /main\/cli\/commands\/index\.ts changed since the last build; rebuilding/);

    const again = await flashline(root, ['--help']);
    assert.match(again.stdout, /EDITED-ONCE list devices/);
    assert.equal(again.stderr, '');
  });

  it('lets several processes that find the build stale rebuild at once, each running the edit', async () => {
    edit(root, commandsIndex, (t) => t.replace('EDITED-ONCE', 'EDITED-TWICE'));
    const runs = await Promise.all([1, 2, 3, 4].map(() => flashline(root, ['--help'])));
    for (const r of runs) {
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /EDITED-TWICE list devices/);
    }
    const after = await flashline(root, ['devices', '--no-usb', '--no-list-serial']);
    assert.equal(after.code, 0, after.stderr);
    assert.equal(after.stderr, '');
  });

  it('compiles the sources on load when they cannot be built, and builds again once they can', async () => {
    const good = readFileSync(join(root, commandsIndex), 'utf8');
    edit(root, commandsIndex, (t) => `${t}\nexport const broken = ;\n`);
    const broken = await flashline(root, ['--help']);
    assert.notEqual(broken.code, 0);
    assert.match(
      broken.stderr,
      /could not build the command \(.*commands\/index\.ts.*\); compiling the sources/,
    );

    edit(root, commandsIndex, () => good);
    const fixed = await flashline(root, ['--version']);
    assert.equal(fixed.code, 0, fixed.stderr);
    assert.equal(fixed.stdout, '9.8.7-build-test\n');
    assert.match(fixed.stderr, /changed since the last build; rebuilding/);
  });

  it('runs the sources through tsx when FLASHLINE_FROM_SOURCE is set', async () => {
    // The marker exists only in the sources, not in the build, so the output tells which one ran.
    const built = readFileSync(join(root, commandsIndex), 'utf8');
    const file = join(root, commandsIndex);
    writeFileSync(file, built.replace('EDITED-TWICE', 'FROM-SOURCE'));
    const r = await flashline(root, ['--help'], { FLASHLINE_FROM_SOURCE: '1' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /FROM-SOURCE list devices/);
  });
});
