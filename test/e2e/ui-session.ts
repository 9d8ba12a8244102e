/**
 * One independent UI session per test: its own station, virtual devices, home folder and browser page, so
 * every test can run alone or in any order. The browser process may be shared (launched once per file);
 * nothing a test does in it outlives the test's page.
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import type { Faults } from '../../virtual-device/index.js';
import { type Browser, launchBrowser } from './browser.js';
import { startUiRig, type UiRig } from './rig.js';

export const LONG = { timeout: 60_000 };

export interface UiSession {
  readonly rig: UiRig;
  readonly page: Page;
  /** The registry id of the device with this serial. */
  idOf(serial: string): string;
  close(): Promise<void>;
}

/**
 * One Chromium for the tests of the calling describe block (each test still has its own station and page);
 * call the returned function inside a test to get it.
 */
export function sharedBrowser(): () => Browser {
  let browser: Browser | undefined;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  return () => {
    assert.ok(browser, 'the browser started');
    return browser;
  };
}

export async function openSession(
  browser: Browser,
  options: { readonly devices: number; readonly faults?: (index: number) => Faults | undefined },
): Promise<UiSession> {
  const rig = await startUiRig(options);
  const page = await browser.context.newPage();
  const session: UiSession = {
    rig,
    page,
    idOf(serial) {
      const d = rig.registry.list().find((x) => x.serial === serial);
      assert.ok(d, `device ${serial} is in the registry`);
      return d.id;
    },
    async close() {
      await page.close().catch(() => undefined);
      await rig.stop();
    },
  };
  try {
    await page.goto(rig.station.url);
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);
    await page
      .getByTestId('device-count')
      .filter({ hasText: `${options.devices} connected` })
      .waitFor(LONG);
    // Every device identified (serial known), so ids and labels are final. Bounded like every wait here: a
    // loaded machine may need a few identification rounds (each bounded by the registry's own timeout).
    const identifiedBy = Date.now() + LONG.timeout;
    while (rig.registry.list().some((d) => !d.serial) && Date.now() < identifiedBy) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const unknown = rig.registry.list().filter((d) => !d.serial);
    assert.deepEqual(
      unknown.map((d) => `${d.id} ${d.state} ${d.note ?? ''}`),
      [],
      'every device was identified',
    );
  } catch (err) {
    await session.close();
    throw err;
  }
  return session;
}

/** Open a package by its path on the station (the Package screen's path form). */
export async function loadPackageByPath(page: Page, path: string): Promise<void> {
  await page.getByTestId('nav-package').click();
  await page.getByLabel('Or a path on the station').fill(path);
  await page.getByRole('button', { name: 'Open', exact: true }).click();
  await page.getByTestId('package-summary').waitFor(LONG);
}

/** Pick devices on the Flash screen and confirm; the package must be loaded. */
export async function startFlash(page: Page, deviceIds: readonly string[]): Promise<void> {
  await page.getByTestId('nav-flash').click();
  for (const id of deviceIds) await page.locator(`[data-testid="pick-device"][data-device="${id}"]`).check();
  const n = deviceIds.length;
  await page.getByRole('button', { name: `Flash ${n} ${n === 1 ? 'device' : 'devices'}…` }).click();
  await page
    .getByTestId('confirm-dialog')
    .getByRole('button', { name: `Flash ${n}` })
    .click();
}

/** The text a person sees (closed <details> contents are not rendered, so not included). */
export async function visibleText(locator: Locator): Promise<string> {
  // biome-ignore lint/performance/useDomNodeTextContent: the rendered text is the point (textContent would include closed details)
  return locator.innerText();
}
