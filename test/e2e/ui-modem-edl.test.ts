/**
 * End to end against `flashline station` (a child process) and a `zte-mifi` virtual router (another child):
 * the router is identified over AT; "Enter download mode" switches it (vendor table: AT+ZCDRUN=E); its AT
 * port goes away and it comes back as a bricked Qualcomm device in EDL on a fresh pty, which the station
 * identifies over Sahara and lists in mode EDL with its serial, MSM HW id and OEM PK hash, offering "Rescue…".
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { artifactsDir, startStationProcess } from './browser.js';
import { LONG, sharedBrowser } from './ui-session.js';
import { startVirtualChild } from './virtual-child.js';

describe('a MiFi router switched to download mode in Chromium', () => {
  const browser = sharedBrowser();

  test('Enter download mode turns the zte-mifi into a device in EDL that the station lists', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'flashline-e2e-zte-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const router = startVirtualChild(['--profile', 'zte-mifi', '--state', dir]);
    t.after(() => router.stop());
    const ports = await router.line<{ at: string; edl: string; imei: string }>(
      (r) => r.profile === 'zte-mifi',
    );
    const station = await startStationProcess(['--modem', ports.at, '--edl', `serial:${ports.edl}`]);
    t.after(() => station.stop());
    const page = await browser().context.newPage();
    t.after(() => page.close().catch(() => undefined));
    await page.goto(station.url);
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);

    const modem = page.locator(`[data-testid="device-card"][data-device="serial:${ports.at}"]`);
    await modem.and(page.locator('[data-mode="modem"][data-state="ready"]')).waitFor(LONG);
    assert.equal(await modem.getByTestId('device-imei').textContent(), ports.imei);
    const edl = page.locator(`[data-testid="device-card"][data-device="serial:${ports.edl}"]`);
    // Named before the switch: listed as not there yet, and not offered for a rescue.
    await edl.and(page.locator('[data-state="gone"]')).waitFor(LONG);
    assert.equal(await edl.getByTestId('rescue-device').isDisabled(), true);
    await page.screenshot({ path: join(artifactsDir, 'ui-modem-before-switch.png'), fullPage: true });

    await modem.getByTestId('enter-download-mode').click();
    const event = await router.line<{ via: string; serial: string; oemPkHash: string; pty: string }>(
      (r) => r.event === 'download-mode',
    );
    assert.equal(event.via, 'at');
    assert.equal(event.pty, ports.edl);
    await modem.and(page.locator('[data-state="gone"]')).waitFor(LONG);
    await edl.and(page.locator('[data-mode="edl"][data-state="ready"]')).waitFor(LONG);
    assert.equal(await edl.getAttribute('data-serial'), event.serial);
    assert.equal(await edl.getByTestId('device-mode').textContent(), 'EDL');
    assert.equal(
      await edl.getByTestId('device-oem-pk-hash').textContent(),
      `${event.oemPkHash.slice(0, 16)}…`,
    );
    assert.ok(await edl.getByTestId('device-msm').textContent());
    assert.equal(await edl.getByTestId('rescue-device').isEnabled(), true);
    // The table's ADB step (ZTE download mode) was not needed: this unit went to EDL by itself.
    await modem.getByTestId('device-note').filter({ hasText: 'went to EDL by itself' }).waitFor(LONG);
    await page.screenshot({ path: join(artifactsDir, 'ui-modem-in-edl.png'), fullPage: true });
  });
});
