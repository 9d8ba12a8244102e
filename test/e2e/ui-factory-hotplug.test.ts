/**
 * End to end, the unattended line as an operator runs it: the station is up with nothing plugged in, the
 * package is loaded and auto-flash on connect switched on; only then are three units plugged in, one after
 * another. Each is flashed once (its tile goes READY → PASS) — the registry's "ready" event, not first sight,
 * is what starts a job, so a unit that is still being identified when it appears is not skipped.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { artifactsDir } from './browser.js';
import { startUiRig } from './rig.js';
import { LONG, loadPackageByPath, sharedBrowser } from './ui-session.js';

/** Records every tile's successive states (as shown) in `window.tileStates`, from now on. */
const RECORD_TILE_STATES = `(() => {
  const seen = {};
  window.tileStates = seen;
  const record = () => {
    for (const tile of document.querySelectorAll('[data-testid="tile"]')) {
      const id = tile.getAttribute('data-device') ?? '?';
      const state = tile.querySelector('[data-testid="tile-state"]')?.textContent ?? '';
      const states = seen[id] ?? [];
      if (states.at(-1) !== state) states.push(state);
      seen[id] = states;
    }
  };
  new MutationObserver(record).observe(document.body, { subtree: true, childList: true, characterData: true });
  record();
})()`;

describe('factory screen: units plugged in after auto-flash is on', () => {
  const browser = sharedBrowser();

  test('three late units are flashed once each, tiles READY → PASS', async () => {
    const rig = await startUiRig({ devices: 0, lateDevices: 3 });
    const page = await browser().context.newPage();
    try {
      await page.setViewportSize({ width: 1280, height: 900 });
      await page.goto(rig.station.url);
      await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);
      await loadPackageByPath(page, rig.demo.packagePath);

      await page.getByTestId('nav-factory').click();
      const toggle = page.getByRole('switch', { name: 'Auto-flash on connect' });
      await toggle.click();
      await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Turn on' }).click();
      await page.locator('[data-testid="auto-flash"][aria-checked="true"]').waitFor(LONG);
      assert.equal(await page.getByTestId('count-passed').textContent(), '0');

      // Watch every tile's state as the page shows it, so the READY → PASS path is seen, not assumed.
      // A string, run as-is in the page: tests compile without DOM types, and tsx's helpers do not exist there.
      await page.evaluate(RECORD_TILE_STATES);

      for (let i = 0; i < 3; i++) await rig.plugIn(i);
      await page.getByTestId('count-passed').filter({ hasText: /^3$/ }).waitFor({ timeout: 90_000 });
      assert.equal(await page.getByTestId('count-failed').textContent(), '0');
      await page.screenshot({ path: join(artifactsDir, 'ui-factory-hotplug.png'), fullPage: true });

      const states = (await page.evaluate('window.tileStates')) as Record<string, string[]>;
      const late = rig.registry.list().filter((d) => d.serial?.startsWith('LATE'));
      assert.equal(late.length, 3, 'three late units identified');
      for (const d of late) {
        const path = states[d.id] ?? [];
        assert.equal(path.at(-1), 'PASS', `${d.serial}: ${path.join(' → ')}`);
        assert.ok(path.includes('READY'), `${d.serial} was READY before it was flashed: ${path.join(' → ')}`);
      }
      // Exactly one job per unit, each to 0.
      const reports = await rig.flash.listReports();
      assert.deepEqual(reports.map((r) => `${r.device.serial}:${r.status}`).sort(), [
        'LATE001:0',
        'LATE002:0',
        'LATE003:0',
      ]);
    } finally {
      await page.close().catch(() => undefined);
      await rig.stop();
    }
  });
});
