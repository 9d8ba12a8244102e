/**
 * End to end, Catalog: a station that trusts a local update repository lists the packages for the devices it
 * sees (others behind "show all"), downloads one with progress into its package cache and package list,
 * and flashes it onto a virtual device (0). A station that trusts no repository says how to add one.
 */
import assert from 'node:assert/strict';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { loadTrustStore } from '../../main/package/index.js';
import { addPackage, initRepository, publish } from '../../main/repo/repository.js';
import { serveRepository } from '../../main/repo/serve.js';
import { shippedRootPath } from '../../main/repo/state.js';
import { syncRepository } from '../../main/repo/sync.js';
import { makeRepoFixture } from '../integration/repo/fixture.js';
import { artifactsDir } from './browser.js';
import { LONG, loadPackageByPath, openSession, sharedBrowser, startFlash } from './ui-session.js';

describe('catalog in Chromium', () => {
  const browser = sharedBrowser();

  test('lists, downloads and flashes a package from the update repository', async (t) => {
    const s = await openSession(browser(), { devices: 1 });
    const other = await makeRepoFixture({ imageBytes: 100_000 });
    const repoDir = join(s.rig.home, 'repo');
    await initRepository(repoDir);
    const demoFile = join(s.rig.home, 'flashline-demo-2.0.0.flp');
    await copyFile(s.rig.demo.packagePath, demoFile);
    await addPackage(repoDir, demoFile, await loadTrustStore());
    await addPackage(repoDir, other.packagePath, other.trust);
    await publish(repoDir);
    const server = await serveRepository(repoDir, { port: 0 });
    t.after(async () => {
      await s.close();
      await server.close();
      await other.cleanup();
    });
    const { page, rig } = s;

    await page.getByTestId('nav-catalog').click();
    await page.getByTestId('catalog-no-source').waitFor(LONG);
    assert.match(
      (await page.getByTestId('catalog-no-source').textContent()) ?? '',
      /flashline sync --repo URL --root/,
    );

    // The station installs the repository's root once (as `flashline sync --root` does), then the screen lists it.
    await syncRepository({
      repoUrl: server.url,
      rootFile: shippedRootPath(repoDir),
      home: rig.home,
      trust: await loadTrustStore(),
      products: ['none'],
    });
    await page.getByTestId('nav-devices').click();
    await page.getByTestId('nav-catalog').click();
    const demoRow = page.getByTestId('catalog-row-flashline-demo-2.0.0.flp');
    await demoRow.waitFor(LONG);
    assert.equal(await page.getByTestId('catalog-row-phone-x-1.0.flp').count(), 0, 'other products hidden');
    await page.getByLabel('Show packages for other products too').check();
    await page.getByTestId('catalog-row-phone-x-1.0.flp').waitFor(LONG);
    assert.match((await demoRow.textContent()) ?? '', /flashline-virtual.*2\.0\.0 \(rollback 2\)/);

    await page.getByTestId('catalog-download-flashline-demo-2.0.0.flp').click();
    await demoRow.getByTestId('catalog-done').waitFor(LONG);
    await page.screenshot({ path: join(artifactsDir, 'ui-catalog.png'), fullPage: true });
    const cached = rig.flash.packages().find((p) => p.path.startsWith(join(rig.home, 'cache')));
    assert.ok(cached, 'the downloaded package is in the station package list');

    await loadPackageByPath(page, cached.path);
    await startFlash(page, [s.idOf('DEMO001')]);
    // The confirm click starts the job asynchronously: wait (bounded) until it has ended.
    const until = Date.now() + LONG.timeout;
    while (!rig.flash.listJobs().some((j) => j.status !== undefined) && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.deepEqual(
      rig.flash.listJobs().map((j) => j.status),
      [0],
    );
  });
});
