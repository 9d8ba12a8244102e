/**
 * End to end, the technician's walk: flash two demo devices from the UI, then go back to Devices and find
 * their cards showing what the devices now report — the new version on the other slot — without a reload.
 * The station re-identifies a device after every job (the registry refresh); the page follows its events.
 * The poll is bounded: a card still showing the old version after that is the bug this test exists for.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { artifactsDir } from './browser.js';
import { LONG, loadPackageByPath, openSession, sharedBrowser, startFlash } from './ui-session.js';

/** How long the cards may take to show the re-identified devices. */
const REFRESH_BOUND_MS = 15_000;

describe('flash walk in Chromium', () => {
  const browser = sharedBrowser();

  test('two devices flashed from the UI show the new version and slot on their cards', async (t) => {
    const s = await openSession(browser(), { devices: 3 });
    t.after(() => s.close());
    const { page, rig } = s;
    const flashed = ['DEMO001', 'DEMO002'];
    const ids = flashed.map((serial) => s.idOf(serial));
    // Before: every card says what the virtual devices start with.
    for (const id of ids) {
      const card = page.locator(`[data-testid="device-card"][data-device="${id}"]`);
      assert.equal(await card.getByTestId('device-version').textContent(), '1.0.0');
      assert.equal(await card.getByTestId('device-slot').textContent(), 'a');
    }
    await loadPackageByPath(page, rig.demo.packagePath);
    await startFlash(page, ids);
    for (const id of ids) {
      const job = page.locator(`[data-testid="job"][data-device="${id}"]`);
      await job.and(page.locator('[data-state="done"]')).waitFor(LONG);
      assert.equal(await job.getByTestId('status-code').textContent(), '0');
    }
    await page.getByTestId('nav-devices').click();
    const deadline = Date.now() + REFRESH_BOUND_MS;
    const seen = async () =>
      Promise.all(
        ids.map(async (id) => {
          const card = page.locator(`[data-testid="device-card"][data-device="${id}"]`);
          return `${await card.getByTestId('device-version').textContent()}/${await card.getByTestId('device-slot').textContent()}/${await card.getByTestId('device-rollback').textContent()}`;
        }),
      );
    let now = await seen();
    while (now.some((v) => v !== '2.0.0/b/2') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 250));
      now = await seen();
    }
    await page.screenshot({ path: join(artifactsDir, 'ui-devices-after-flash.png'), fullPage: true });
    assert.deepEqual(
      now,
      ['2.0.0/b/2', '2.0.0/b/2'],
      'cards show version/slot/rollback index the devices report after the flash (needs the registry refresh after each job)',
    );
    // The device that was not flashed still says what it said.
    const other = page.locator(`[data-testid="device-card"][data-device="${s.idOf('DEMO003')}"]`);
    assert.equal(await other.getByTestId('device-version').textContent(), '1.0.0');
  });
});
