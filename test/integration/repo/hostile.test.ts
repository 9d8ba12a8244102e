/**
 * A station syncing from a real HTTP server on loopback, honest and hostile: every refusal is a 2x status
 * code and leaves nothing in the package cache (no package, no partial file); a dropped connection resumes
 * with a range request where it stopped.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlashlineError } from '../../../main/common/errors.js';
import { addPackage, initRepository, publish } from '../../../main/repo/repository.js';
import { publicDir } from '../../../main/repo/state.js';
import { repoStateDir, type SyncResult, syncRepository } from '../../../main/repo/sync.js';
import {
  filesUnder,
  hostileMirror,
  makeRepoFixture,
  type RepoFixture,
  type RepoServer,
  serveRepository,
} from './fixture.js';

const isTarget = (url: string | undefined) => /^\/targets\/[0-9a-f]{64}\./.test(url ?? '');

describe('flashline sync against honest and hostile repositories', () => {
  let fx: RepoFixture;
  const servers: RepoServer[] = [];
  before(async () => {
    fx = await makeRepoFixture();
  });
  after(async () => {
    for (const s of servers) await s.close();
    await fx.cleanup();
  });

  const serve = async (repoDir: string) => {
    const s = await serveRepository(repoDir, { port: 0 });
    servers.push(s);
    return s;
  };
  const mirror = async (...args: Parameters<typeof hostileMirror>) => {
    const s = await hostileMirror(...args);
    servers.push(s);
    return s;
  };
  const sync = (url: string, home: string): Promise<SyncResult> =>
    syncRepository({
      repoUrl: url,
      rootFile: fx.rootFile,
      home,
      trust: fx.trust,
      decryptionKeys: [fx.stationKey],
    });
  /** A copy of the repository, for tests that change what is published. */
  const copyRepo = async (name: string) => {
    const dir = join(fx.dir, name);
    await fs.cp(fx.repoDir, dir, { recursive: true });
    return dir;
  };

  async function assertRefused(run: Promise<unknown>, code: number, home: string, url: string) {
    await assert.rejects(run, (err: unknown) => {
      assert.ok(err instanceof FlashlineError, String(err));
      assert.equal(err.code, code, err.message);
      return true;
    });
    assert.deepEqual(await filesUnder(join(home, 'cache')), [], 'nothing in the package cache');
    assert.deepEqual(await filesUnder(join(repoStateDir(url, home), 'partial')), [], 'no partial download');
  }

  it('places the verified package in the cache; a second sync downloads nothing', async () => {
    const { url } = await serve(fx.repoDir);
    const home = await fx.newHome();
    const first = await sync(url, home);
    assert.equal(first.packages.length, 1);
    assert.equal(first.packages[0]?.downloaded, true);
    const cached = await fs.readFile(first.packages[0]!.path);
    assert.deepEqual(cached, await fs.readFile(fx.packagePath));
    const second = await sync(url, home);
    assert.equal(second.packages[0]?.downloaded, false);
    assert.equal(second.catalog.entries[0]?.package.products[0], 'phone-x');
  });

  it('refuses a tampered target (28)', async () => {
    const { url } = await mirror(fx.repoDir, (req, res, next) => {
      if (!isTarget(req.url)) return next();
      void fs.readFile(join(publicDir(fx.repoDir), req.url!)).then((bytes) => {
        const mid = bytes.length >> 1;
        bytes[mid] = (bytes[mid] ?? 0) ^ 0xff;
        res.setHeader('content-length', bytes.length);
        res.end(bytes);
      });
    });
    const home = await fx.newHome();
    await assertRefused(sync(url, home), 28, home, url);
  });

  for (const [what, matches] of [
    ['target data', isTarget],
    ['metadata (timestamp.json)', (u: string | undefined) => u === '/timestamp.json'],
  ] as const) {
    it(`refuses a mirror that sends endless ${what} (28)`, async () => {
      const { url } = await mirror(fx.repoDir, (req, res, next) => {
        if (!matches(req.url)) return next();
        const chunk = Buffer.alloc(64 * 1024, 0x20);
        const pump = () => {
          while (!res.destroyed && res.write(chunk));
          if (!res.destroyed) res.once('drain', pump);
        };
        pump();
      });
      const home = await fx.newHome();
      await assertRefused(sync(url, home), 28, home, url);
    });
  }

  it('refuses a truncated target (28)', async () => {
    const { url } = await mirror(fx.repoDir, (req, res, next) => {
      if (!isTarget(req.url)) return next();
      void fs.readFile(join(publicDir(fx.repoDir), req.url!)).then((bytes) => {
        const half = bytes.subarray(0, bytes.length >> 1);
        res.setHeader('content-length', half.length);
        res.end(half);
      });
    });
    const home = await fx.newHome();
    await assertRefused(sync(url, home), 28, home, url);
  });

  it('refuses expired metadata (25)', async () => {
    const dir = await copyRepo('expired');
    await publish(dir, { now: new Date(Date.now() - 3 * 24 * 3600 * 1000) });
    const { url } = await serve(dir);
    const home = await fx.newHome();
    await assertRefused(sync(url, home), 25, home, url);
  });

  it('refuses a replayed old timestamp (26)', async () => {
    const dir = await copyRepo('replay-timestamp');
    const { url } = await serve(dir);
    const home = await fx.newHome();
    const old = await fs.readFile(join(publicDir(dir), 'timestamp.json'));
    await sync(url, home);
    await publish(dir);
    await sync(url, home);
    await fs.rm(join(home, 'cache'), { recursive: true });
    await fs.writeFile(join(publicDir(dir), 'timestamp.json'), old);
    await assertRefused(sync(url, home), 26, home, url);
  });

  it('refuses a replayed old snapshot under the new name (26)', async () => {
    const dir = await copyRepo('replay-snapshot');
    const { url } = await serve(dir);
    const home = await fx.newHome();
    await sync(url, home);
    await fs.rm(join(home, 'cache'), { recursive: true });
    const r = await publish(dir);
    const pub = publicDir(dir);
    await fs.copyFile(join(pub, `${r.snapshot - 1}.snapshot.json`), join(pub, `${r.snapshot}.snapshot.json`));
    await assertRefused(sync(url, home), 26, home, url);
  });

  it('refuses a repository signed with other keys (23)', async () => {
    const dir = join(fx.dir, 'impostor');
    await initRepository(dir);
    await addPackage(dir, fx.packagePath, fx.trust);
    await publish(dir);
    const { url } = await serve(dir);
    const home = await fx.newHome();
    await assertRefused(sync(url, home), 23, home, url);
  });

  it('resumes with a range request after the connection is killed mid-download', async () => {
    const ranges: (string | undefined)[] = [];
    let cutAt = 0;
    const { url } = await mirror(fx.repoDir, (req, res, next) => {
      if (!isTarget(req.url)) return next();
      ranges.push(req.headers.range);
      if (ranges.length > 1) return next();
      // First request: promise the whole file, send a third of it, then kill the connection.
      void fs.readFile(join(publicDir(fx.repoDir), req.url!)).then((bytes) => {
        cutAt = Math.floor(bytes.length / 3);
        res.writeHead(200, { 'content-length': bytes.length });
        // Kill the connection once the first third has been handed to the kernel.
        res.write(bytes.subarray(0, cutAt), () => res.socket?.destroy());
      });
    });
    const home = await fx.newHome();
    const result = await sync(url, home);
    assert.equal(ranges.length, 2, 'one more request after the cut');
    assert.equal(ranges[0], undefined);
    // Resumes from what arrived: a destroyed socket may drop the tail of what was handed to the kernel (seen
    // in CI), so the offset is at most the cut, and more than nothing.
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(ranges[1] ?? '')?.[1] ?? Number.NaN);
    assert.ok(
      resumedAt > 0 && resumedAt <= cutAt,
      `the second request resumes (${ranges[1]}; cut at ${cutAt})`,
    );
    assert.deepEqual(await fs.readFile(result.packages[0]!.path), await fs.readFile(fx.packagePath));
  });
});
