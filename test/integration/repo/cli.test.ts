/**
 * The operator's and the station's commands as a script runs them (child processes, exit code = status
 * code): repo init → add → publish → serve; sync places the package (0); after a target in the served
 * directory is altered a fresh sync refuses it (28) and the first station's cache stays as it was; after
 * key rotations (timestamp, then root) the station follows the root chain.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { repoStateDir } from '../../../main/repo/sync.js';
import { runFlashline } from '../cli/child.js';
import { filesUnder, hostileMirror, makeRepoFixture, type RepoFixture } from './fixture.js';

const cli = fileURLToPath(new URL('../../../bin/flashline.js', import.meta.url));

/** `flashline repo serve DIR --port 0 --json` until stopped; resolves with its URL. */
function startServe(repoDir: string): Promise<{ child: ChildProcess; url: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, 'repo', 'serve', repoDir, '--port', '0', '--json'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve({ child, url: (JSON.parse(line) as { url: string }).url });
    });
    child.on('error', reject);
    child.on('exit', (code) => reject(new Error(`repo serve exited ${code}`)));
  });
}

describe('flashline repo + flashline sync (CLI)', () => {
  let fx: RepoFixture;
  let repoDir: string;
  let server: { child: ChildProcess; url: string };
  before(async () => {
    fx = await makeRepoFixture({ imageBytes: 600_000 });
    repoDir = join(fx.dir, 'cli-repo');
  });
  after(async () => {
    if (server?.child.pid) process.kill(server.child.pid, 'SIGTERM');
    await fx.cleanup();
  });

  const sync = (home: string, ...extra: string[]) =>
    runFlashline(['sync', '--repo', server.url, '--trust', fx.trustDir, ...extra], {
      env: { FLASHLINE_HOME: home },
    });

  it('init, add, publish, serve; sync places the package in the cache (exit 0)', async () => {
    assert.equal((await runFlashline(['repo', 'init', repoDir])).code, 0);
    const add = await runFlashline(['repo', 'add', repoDir, fx.packagePath, '--trust', fx.trustDir]);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stdout, /phone-x 1\.0 \(rollback index 1\).*encrypted/);
    assert.equal((await runFlashline(['repo', 'publish', repoDir])).code, 0);
    server = await startServe(repoDir);
    const home = await fx.newHome();
    const first = await sync(home, '--root', join(repoDir, 'root.json'));
    assert.equal(first.code, 0, first.stderr);
    assert.match(first.stdout, /downloaded phone-x-1\.0\.flp/);
    const list = await sync(home, '--list', '--json');
    assert.equal(list.code, 0, list.stderr);
    const catalog = JSON.parse(list.stdout) as { entries: { name: string; cached: boolean }[] };
    assert.deepEqual(
      catalog.entries.map((e) => [e.name, e.cached]),
      [['phone-x-1.0.flp', true]],
    );
  });

  it('an altered target is refused by a fresh sync (28); the other station keeps its cache', async () => {
    const home1 = join(fx.dir, 'home-1');
    const before1 = await filesUnder(join(home1, 'cache'));
    const targets = join(repoDir, 'public', 'targets');
    const [name] = (await fs.readdir(targets)).filter((n) => n.endsWith('.flp'));
    const file = join(targets, name!);
    const bytes = await fs.readFile(file);
    bytes[1000] = (bytes[1000] ?? 0) ^ 1;
    await fs.writeFile(file, bytes);
    const home = await fx.newHome();
    const r = await sync(home, '--root', join(repoDir, 'root.json'));
    assert.equal(r.code, 28, r.stderr);
    assert.match(r.stderr, /signed SHA-256/);
    assert.deepEqual(await filesUnder(join(home, 'cache')), []);
    assert.deepEqual(await filesUnder(join(home1, 'cache')), before1);
    bytes[1000] = (bytes[1000] ?? 0) ^ 1;
    await fs.writeFile(file, bytes);
  });

  it('a station follows rotated timestamp and root keys; a sync without a root is told what to pass', async () => {
    assert.equal((await runFlashline(['repo', 'rotate-key', repoDir, '--role', 'timestamp'])).code, 0);
    assert.equal((await runFlashline(['repo', 'rotate-key', repoDir, '--role', 'root'])).code, 0);
    const r = await sync(join(fx.dir, 'home-1'), '--list');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /phone-x-1\.0\.flp .*\[cached\]/);
    const remembered = JSON.parse(
      await fs.readFile(
        join(
          fx.dir,
          'home-1',
          'repos',
          (await fs.readdir(join(fx.dir, 'home-1', 'repos')))[0]!,
          'metadata',
          'root.json',
        ),
        'utf8',
      ),
    ) as { signed: { version: number } };
    assert.equal(remembered.signed.version, 3);
    const none = await sync(await fx.newHome(), '--list');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /Pass --root ROOT\.json/);
  });

  it('--newest --print-path follows the newest package of a product (for line and scripts)', async () => {
    for (const [version, index] of [
      ['1.2', 3],
      ['1.10', 3],
      ['0.9', 2],
    ] as const) {
      const add = await runFlashline([
        'repo',
        'add',
        repoDir,
        await fx.packVersion(version, index),
        '--trust',
        fx.trustDir,
      ]);
      assert.equal(add.code, 0, add.stderr);
    }
    assert.equal((await runFlashline(['repo', 'publish', repoDir])).code, 0);
    const home = join(fx.dir, 'home-1');
    const r = await sync(home, '--product', 'phone-x', '--newest', '--print-path');
    assert.equal(r.code, 0, r.stderr);
    const paths = r.stdout.trim().split('\n');
    assert.equal(paths.length, 1);
    const inspect = await runFlashline(['inspect', paths[0]!, '--json']);
    assert.equal((JSON.parse(inspect.stdout) as { manifest: { version: string } }).manifest.version, '1.10');
    const none = await sync(home, '--product', 'no-such-product', '--newest');
    assert.equal(none.code, 1);
    assert.match(none.stderr, /no package for product no-such-product/);
  });

  it('a sync killed mid-download resumes where it stopped on the next run', async (t) => {
    const ranges: (string | undefined)[] = [];
    let cutAt = 0;
    const mirror = await hostileMirror(repoDir, (req, res, next) => {
      if (!req.url?.startsWith('/targets/')) return next();
      ranges.push(req.headers.range);
      if (ranges.length > 1) return next();
      // First request: a third of the file, then the mirror stalls with the connection open.
      void fs.readFile(join(repoDir, 'public', req.url)).then((bytes) => {
        cutAt = Math.floor(bytes.length / 3);
        res.writeHead(200, { 'content-length': bytes.length });
        res.write(bytes.subarray(0, cutAt));
      });
    });
    // The stalled connection must not outlive a failing assertion.
    t.after(() => mirror.close());
    const home = await fx.newHome();
    const args = ['sync', '--repo', mirror.url, '--root', join(repoDir, 'root.json'), '--trust', fx.trustDir];
    const partial = join(repoStateDir(mirror.url, home), 'partial');
    let size = 0;
    const killed = await runFlashline([...args, '--package', 'phone-x-1.0.flp'], {
      env: { FLASHLINE_HOME: home },
      onSpawn: (child) => {
        const poll = setInterval(() => {
          void fs.readdir(partial).then(
            async (names) => {
              if (!names[0]) return;
              size = (await fs.stat(join(partial, names[0]))).size;
              if (size === cutAt && cutAt > 0) {
                clearInterval(poll);
                child.kill('SIGKILL');
              }
            },
            () => undefined,
          );
        }, 20);
        child.on('exit', () => clearInterval(poll));
      },
    });
    assert.equal(killed.signal, 'SIGKILL');
    assert.equal(size, cutAt);
    const resumed = await runFlashline([...args, '--package', 'phone-x-1.0.flp'], {
      env: { FLASHLINE_HOME: home },
    });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(ranges, [undefined, `bytes=${cutAt}-`]);
    const [cached] = await fs.readdir(join(home, 'cache'));
    assert.deepEqual(await fs.readFile(join(home, 'cache', cached!)), await fs.readFile(fx.packagePath));
  });
});
