/**
 * The Catalog API against a repository served on loopback: sources (remembered roots), catalog (with the
 * products the station sees), a download with progress events ending in the cache and the station's
 * package list; a refused download reports its 2x code as data.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { FlashService } from '../../../main/flash/service.js';
import type { CatalogDownload } from '../../../main/repo/catalog.js';
import { publicDir } from '../../../main/repo/state.js';
import { syncRepository } from '../../../main/repo/sync.js';
import { stationCatalog } from '../../../main/station/catalog.js';
import { defaultPackageFolders, PackageFolders } from '../../../main/station/package-folders.js';
import {
  hostileMirror,
  makeRepoFixture,
  type RepoFixture,
  type RepoServer,
  serveRepository,
} from './fixture.js';

describe('repo API (Catalog)', () => {
  let fx: RepoFixture;
  let home: string;
  /** A station home with the station key and the publisher's trust entry (the trust store reads FLASHLINE_HOME). */
  const stationHome = async () => {
    const h = await fx.newHome();
    await fs.mkdir(join(h, 'trust'));
    await fs.copyFile(join(fx.trustDir, 'signer.pub'), join(h, 'trust', 'signer.pub'));
    process.env.FLASHLINE_HOME = h;
    return h;
  };
  const servers: RepoServer[] = [];
  const saved = process.env.FLASHLINE_HOME;
  before(async () => {
    fx = await makeRepoFixture({ imageBytes: 400_000 });
  });
  after(async () => {
    if (saved === undefined) delete process.env.FLASHLINE_HOME;
    else process.env.FLASHLINE_HOME = saved;
    for (const s of servers) await s.close();
    await fx.cleanup();
  });

  const makeCaller = () => {
    const flash = new FlashService({ home });
    return createCallerFactory(appRouter)({
      version: 't',
      mode: 'station',
      devices: new DeviceRegistry(),
      demo: false,
      flash,
      catalog: stationCatalog(home, flash),
    });
  };

  /** Collect download events until the one for `id` has ended. */
  async function until(caller: ReturnType<typeof makeCaller>, start: () => Promise<CatalogDownload>) {
    const seen: CatalogDownload[] = [];
    const events = await caller.repo.events();
    const first = await start();
    if (first.state !== 'running') return [first];
    for await (const e of events as AsyncIterable<CatalogDownload>) {
      if (e.id !== first.id) continue;
      seen.push(e);
      if (e.state !== 'running') break;
    }
    return seen;
  }

  it('lists trusted sources and their packages, downloads one into the cache and the package list', async () => {
    home = await stationHome();
    const server = await serveRepository(fx.repoDir, { port: 0 });
    servers.push(server);
    const caller = makeCaller();
    assert.deepEqual(await caller.repo.sources(), []);
    await assert.rejects(caller.repo.catalog({ repoUrl: server.url }), /--root/);
    // The root is installed by a first sync with it (nothing to download: the product filter matches none).
    await syncRepository({
      repoUrl: server.url,
      rootFile: fx.rootFile,
      home,
      trust: fx.trust,
      products: ['none'],
    });
    assert.deepEqual(await caller.repo.sources(), [server.url]);
    const catalog = await caller.repo.catalog({ repoUrl: server.url });
    assert.deepEqual(
      catalog.entries.map((e) => [e.name, e.package.products, e.cached]),
      [['phone-x-1.0.flp', ['phone-x'], false]],
    );
    assert.deepEqual(catalog.seenProducts, []);
    const events = await until(caller, () =>
      caller.repo.download({ repoUrl: server.url, name: 'phone-x-1.0.flp' }),
    );
    const last = events.at(-1)!;
    assert.equal(last.state, 'done', last.message);
    assert.equal(last.bytesDone, last.bytesTotal);
    assert.ok(last.bytesTotal > 400_000);
    assert.ok(last.path && (await fs.stat(last.path)).isFile());
    assert.ok(
      events.every((e, i) => i === 0 || e.bytesDone >= events[i - 1]!.bytesDone),
      'never backwards',
    );
    const list = await caller.packages.list();
    assert.deepEqual(
      list.map((p) => p.path),
      [last.path],
    );
    assert.equal((await caller.repo.catalog({ repoUrl: server.url })).entries[0]?.cached, true);
  });

  it('a refused download ends failed with its 2x code as data; nothing reaches the cache', async () => {
    const mirror = await hostileMirror(fx.repoDir, (req, res, next) => {
      if (!req.url?.startsWith('/targets/')) return next();
      void fs.readFile(join(publicDir(fx.repoDir), req.url)).then((bytes) => {
        bytes[10] = (bytes[10] ?? 0) ^ 0xff;
        res.end(bytes);
      });
    });
    servers.push(mirror);
    home = await stationHome();
    const caller = makeCaller();
    await syncRepository({
      repoUrl: mirror.url,
      rootFile: fx.rootFile,
      home,
      trust: fx.trust,
      products: ['none'],
    });
    const before = await fs.readdir(join(home, 'cache')).catch(() => []);
    const events = await until(caller, () =>
      caller.repo.download({ repoUrl: mirror.url, name: 'phone-x-1.0.flp' }),
    );
    const last = events.at(-1)!;
    assert.equal(last.state, 'failed');
    assert.equal(last.code, 28);
    assert.match(last.message ?? '', /signed SHA-256/);
    assert.deepEqual(await fs.readdir(join(home, 'cache')).catch(() => []), before);
    await assert.rejects(caller.repo.download({ repoUrl: 'file:///etc', name: 'x.flp' }), /repoUrl/);
  });

  it('a remote station may open what the Catalog placed in the cache (a default package folder)', async () => {
    const h = await stationHome();
    const folders = new PackageFolders(defaultPackageFolders(join(h, 'uploads')));
    await folders.check(join(h, 'cache', `${'0'.repeat(64)}.flp`));
    await assert.rejects(folders.check(join(h, 'elsewhere.flp')), /package folders/);
  });
});
