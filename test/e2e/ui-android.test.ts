/**
 * End to end, a stock Android phone at the station: the device list shows it running Android with USB
 * debugging allowed, and "Reboot to fastboot" (the typed API's devices.reboot over the phone's ADB endpoint)
 * moves it into its bootloader: its fastboot endpoint becomes the unit, ready, and the ADB endpoint points
 * at it. Then a package is flashed onto it from Android — the job reboots it itself.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { artifactsDir } from './browser.js';
import { startUiRig } from './rig.js';
import { LONG, loadPackageByPath, sharedBrowser, startFlash } from './ui-session.js';

describe('a stock Android phone in Chromium', () => {
  const browser = sharedBrowser();

  test('listed as Android; Reboot to fastboot moves it to fastboot', async (t) => {
    const rig = await startUiRig({ devices: 0, phones: 1 });
    t.after(() => rig.stop());
    const page = await browser().context.newPage();
    t.after(() => page.close().catch(() => undefined));
    const phone = rig.demo.devices[0]!;
    const adbId = phone.adbAddress ?? '';
    const fastbootId = phone.address;
    await page.goto(rig.station.url);
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);

    const adbCard = page.locator(`[data-testid="device-card"][data-device="${adbId}"]`);
    await adbCard.and(page.locator('[data-mode="android"][data-state="ready"]')).waitFor(LONG);
    assert.equal(await adbCard.getByTestId('device-mode').textContent(), 'Android');
    assert.equal(await adbCard.getByTestId('device-authorization').textContent(), 'Allowed');
    assert.equal(await adbCard.getAttribute('data-serial'), phone.serial);
    assert.equal(await adbCard.getByTestId('device-slot').textContent(), 'a');
    await page.screenshot({ path: join(artifactsDir, 'ui-android-listed.png'), fullPage: true });

    await adbCard.getByTestId('reboot-fastboot').click();
    const fastbootCard = page.locator(`[data-testid="device-card"][data-device="${fastbootId}"]`);
    await fastbootCard.and(page.locator('[data-mode="fastboot"][data-state="ready"]')).waitFor(LONG);
    assert.equal(await fastbootCard.getAttribute('data-serial'), phone.serial);
    // One unit: the ADB endpoint (silent now) keeps its serial and points at the fastboot one.
    await adbCard.getByTestId('device-same-as').waitFor(LONG);
    assert.equal(await fastbootCard.getByTestId('reboot-fastboot').count(), 0, 'nothing to reboot into');
    assert.deepEqual(rig.registry.endpointsOf(adbId), [fastbootId, adbId]);
    await page.screenshot({ path: join(artifactsDir, 'ui-android-rebooted.png'), fullPage: true });
  });

  test('flashing starts from Android: the job reboots the phone, flashes it and sees Android boot the new slot', async (t) => {
    const rig = await startUiRig({ devices: 0, phones: 1 });
    t.after(() => rig.stop());
    const page = await browser().context.newPage();
    t.after(() => page.close().catch(() => undefined));
    const adbId = rig.demo.devices[0]!.adbAddress ?? '';
    await page.goto(rig.station.url);
    await page
      .locator(`[data-testid="device-card"][data-device="${adbId}"][data-mode="android"][data-state="ready"]`)
      .waitFor(LONG);
    await loadPackageByPath(page, rig.demo.packagePath);
    await startFlash(page, [adbId]);
    const job = page.locator(`[data-testid="job"][data-device="${adbId}"]`);
    await job.and(page.locator('[data-state="done"]')).waitFor({ timeout: 120_000 });
    assert.equal(await job.getByTestId('status-code').textContent(), '0');
    assert.equal(rig.demo.devices[0]!.device.bootControl.active, 'b');
    // What the postcheck confirmed, and what this stock phone cannot have checked, are on screen too.
    assert.match(
      (await job.getByTestId('job-confirmed').textContent()) ?? '',
      /Android booted .* on slot b, running 2\.0\.0/,
    );
    assert.match(
      (await job.getByTestId('job-unchecked').textContent()) ?? '',
      /device rollback index not available: checked against this station's record only/,
    );
  });

  test('a phone that does not allow this computer shows the remedy, and cannot be rebooted from here', async (t) => {
    const rig = await startUiRig({ devices: 0, phones: 1, device: { adbAuthorizedKeys: [] } });
    t.after(() => rig.stop());
    const page = await browser().context.newPage();
    t.after(() => page.close().catch(() => undefined));
    const adbId = rig.demo.devices[0]!.adbAddress ?? '';
    await page.goto(rig.station.url);
    const card = page.locator(`[data-testid="device-card"][data-device="${adbId}"]`);
    await card.getByTestId('device-authorization').filter({ hasText: 'Not allowed' }).waitFor(LONG);
    assert.match(
      (await card.getByTestId('device-note').textContent()) ?? '',
      /Unlock the phone and tap "Allow" on "Allow USB debugging\?"/,
    );
    assert.equal(await card.getByTestId('reboot-fastboot').isDisabled(), true);
    await page.screenshot({ path: join(artifactsDir, 'ui-android-unauthorized.png'), fullPage: true });
  });
});
