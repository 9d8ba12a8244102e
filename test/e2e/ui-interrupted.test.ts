/**
 * End to end, interrupted jobs: journals left by a Flashline that stopped mid-job (written with the product's
 * own Journal, as a crash leaves them: a start and the stage it reached, no end) are listed in a banner on
 * every screen. Resume runs the job again on the same device to status 0; Discard closes it with 18. Both
 * leave the banner and reach History.
 */
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Journal } from '../../main/flash/journal.js';
import { artifactsDir } from './browser.js';
import { LONG, openSession, sharedBrowser } from './ui-session.js';

describe('interrupted jobs in Chromium', () => {
  const browser = sharedBrowser();

  test('a banner lists jobs cut short; Resume finishes one, Discard closes the other with 18', async (t) => {
    const s = await openSession(browser(), { devices: 2 });
    t.after(() => s.close());
    const { page, rig } = s;
    const pkg = await rig.flash.openPackage(rig.demo.packagePath);
    await mkdir(rig.flash.journalDir, { recursive: true });
    const crashed = async (jobId: string, serial: string) => {
      const journal = Journal.at(rig.flash.journalDir, jobId);
      await journal.begin({
        type: 'start',
        jobId,
        deviceId: s.idOf(serial),
        package: { id: pkg.id, version: pkg.version, sha256: pkg.sha256, path: rig.demo.packagePath },
      });
      await journal.append({ type: 'stage', stage: 'preflight' });
    };
    // Ids are fixed now: during the resumed job its device reboots, and a rebooting unit has no serial.
    const id1 = s.idOf('DEMO001');
    const id2 = s.idOf('DEMO002');
    await crashed('crashed-1', 'DEMO001');
    await crashed('crashed-2', 'DEMO002');
    // The page that opens next (or reloads) shows them.
    await page.reload();
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);
    const banner = page.getByTestId('interrupted');
    await banner.waitFor(LONG);
    assert.match((await banner.getByRole('heading').textContent()) ?? '', /^2 jobs were cut short/);
    const one = banner.locator(`[data-testid="interrupted-job"][data-device="${id1}"]`);
    const two = banner.locator(`[data-testid="interrupted-job"][data-device="${id2}"]`);
    assert.match(
      (await one.textContent()) ?? '',
      /^DEMO001 Flashline Virtual — Stopped while checking device: flashline-demo 2\.0\.0/,
    );
    await page.screenshot({ path: join(artifactsDir, 'ui-interrupted.png'), fullPage: true });
    // Shown on every screen, not only the first.
    await page.getByTestId('nav-history').click();
    await banner.waitFor(LONG);

    await one.getByRole('button', { name: /^Resume/ }).click();
    await one.waitFor({ state: 'detached', ...LONG });
    await page.getByTestId('nav-flash').click();
    const resumed = page.locator(`[data-testid="job"][data-device="${id1}"][data-state="done"]`);
    await resumed.waitFor(LONG);
    assert.equal(await resumed.getByTestId('status-code').textContent(), '0');

    await two.getByRole('button', { name: /^Discard/ }).click();
    await banner.waitFor({ state: 'detached', ...LONG });
    assert.deepEqual(await rig.flash.manager.interrupted(), []);
    await page.getByTestId('nav-history').click();
    await page.getByText('2 of 2 jobs').waitFor(LONG);
    const statuses = await page
      .locator('[data-testid="history-row"] td.history-status strong')
      .allTextContents();
    assert.deepEqual(statuses.sort(), ['0', '18']);
  });
});
