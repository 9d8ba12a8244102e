/**
 * End to end, factory screen: Debian's Chromium against a station with eight virtual devices. The package
 * is opened by its path on the station, auto-flash on connect is switched on (with confirmation), and all
 * eight tiles turn PASS with the counters following. Screenshots in light and dark go to artifacts/.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { artifactsDir, type Browser, launchBrowser } from './browser.js';
import { startUiRig, type UiRig } from './rig.js';

const LONG = { timeout: 90_000 };

describe('factory screen in Chromium', () => {
  let rig: UiRig;
  let browser: Browser;

  before(async () => {
    rig = await startUiRig({ devices: 8 });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await rig?.stop();
  });

  test('eight devices, auto-flash on connect, all tiles pass', async () => {
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 1280, height: 900 });
    await page.goto(rig.station.url);
    await page.getByTestId('device-count').filter({ hasText: '8 connected' }).waitFor(LONG);

    // The switch needs a verified package: open one by its path on the station.
    await page.getByTestId('nav-factory').click();
    assert.equal(await page.getByTestId('auto-flash').isDisabled(), true);
    await page.getByTestId('nav-package').click();
    await page.getByLabel('Or a path on the station').fill(rig.demo.packagePath);
    await page.getByRole('button', { name: 'Open', exact: true }).click();
    await page.getByTestId('package-summary').waitFor(LONG);

    await page.getByTestId('nav-factory').click();
    const tiles = page.getByTestId('tile');
    await page
      .locator('[data-testid="tile"] [data-testid="tile-state"]', { hasText: 'READY' })
      .nth(7)
      .waitFor(LONG);
    assert.equal(await tiles.count(), 8);
    // Before five units passed there is no rate to show, only what it waits for.
    assert.equal(await page.getByTestId('count-uph').textContent(), '—');
    assert.match(
      (await page.getByTestId('count-uph-basis').textContent()) ?? '',
      /shown after 5 passed units/,
    );
    await page.screenshot({ path: join(artifactsDir, 'ui-factory-ready.png'), fullPage: true });

    const toggle = page.getByRole('switch', { name: 'Auto-flash on connect' });
    assert.equal(await toggle.getAttribute('aria-checked'), 'false');
    await toggle.click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Turn on' }).click();
    await page.locator('[data-testid="auto-flash"][aria-checked="true"]').waitFor(LONG);

    await page.getByTestId('count-passed').filter({ hasText: /^8$/ }).waitFor(LONG);
    assert.equal(await page.getByTestId('count-failed').textContent(), '0');
    assert.equal(await page.getByTestId('count-progress').textContent(), '0');
    // Units per hour rests on the real completions (eight, at least the five it needs), and says so.
    assert.match((await page.getByTestId('count-uph').textContent()) ?? '', /^\d+$/);
    assert.match((await page.getByTestId('count-uph-basis').textContent()) ?? '', /^8 units in \d+ s$/);
    const figure = page.getByTestId('units-figure');
    await figure.waitFor(LONG);
    assert.equal(await figure.locator('canvas').count(), 1);
    assert.match(
      (await figure.locator('figcaption').textContent()) ?? '',
      /^Units per hour over this session: now \d+, highest \d+\.$/,
    );
    // Tiles are titled by serial and product name, in the stable order.
    const names = await page.locator('[data-testid="tile"] .tile-name').allTextContents();
    for (const n of names) assert.match(n, /^DEMO00\dFlashline Virtual$/);
    assert.equal(await tiles.count(), 8);
    for (let i = 0; i < 8; i++) {
      assert.equal(await tiles.nth(i).getByTestId('tile-state').textContent(), 'PASS');
    }
    await page.screenshot({ path: join(artifactsDir, 'ui-factory-pass.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(artifactsDir, 'ui-factory-pass-dark.png'), fullPage: true });

    // A reloaded page (or another one on the line) shows the station's setting, then turns it off.
    await page.reload();
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);
    await page.getByTestId('nav-factory').click();
    await page.locator('[data-testid="auto-flash"][aria-checked="true"]').waitFor(LONG);
    await toggle.click();
    await page.locator('[data-testid="auto-flash"][aria-checked="false"]').waitFor(LONG);
    await page.close();
  });
});
