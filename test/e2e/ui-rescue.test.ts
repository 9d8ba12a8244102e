/**
 * End to end, the support flow against `flashline station` (a child process) and a bricked virtual
 * `qualcomm-edl` device (another child): the station identifies it over Sahara and offers "Rescue…"; the
 * technician picks a signed rescue package (made by `make-rescue-dir` + `pack --from-qualcomm-dir`), backs
 * up `boot`, confirms, follows the progress and reads the result (status 0, the device's log lines); the
 * device comes back in fastboot, shows up as a normal device, and a package is flashed onto it to 0.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { makeDemoPackage } from '../../main/cli/demo-package.js';
import { describeRun, runFlashline } from '../integration/cli/child.js';
import { packCli } from '../integration/edl/rescue-helpers.js';
import { freePorts } from '../integration/line/helpers.js';
import { artifactsDir, startStationProcess } from './browser.js';
import { LONG, loadPackageByPath, sharedBrowser, startFlash, visibleText } from './ui-session.js';
import { startVirtualChild } from './virtual-child.js';

describe('rescue of a bricked device in Chromium', () => {
  const browser = sharedBrowser();

  test('Rescue… → package → backup → confirm → progress → result 0; back in fastboot, then flashed to 0', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'flashline-e2e-rescue-'));
    t.after(() => rmSync(dir, { recursive: true, force: true }));
    const made = await runFlashline(['virtual-device', 'make-rescue-dir', '--out', join(dir, 'folder')]);
    assert.equal(made.code, 0, describeRun(made));
    const rescuePkg = join(dir, 'rescue.flp');
    const packed = await packCli(join(dir, 'folder'), rescuePkg, { FLASHLINE_HOME: join(dir, 'home') });
    assert.equal(packed.code, 0, describeRun(packed));
    const firmware = await makeDemoPackage(join(dir, 'fw.flp'), { bootSize: 1 << 20, systemSize: 1 << 20 });

    const [port] = await freePorts(1);
    const device = startVirtualChild([
      '--profile',
      'qualcomm-edl',
      '--tcp',
      `127.0.0.1:${port}`,
      '--state',
      join(dir, 'device'),
    ]);
    t.after(() => device.stop());
    const row = await device.line<{ address: string; serial: string; fastbootAfterRescue: string }>(
      (r) => r.profile === 'qualcomm-edl',
    );
    const station = await startStationProcess(['--edl', row.address]);
    t.after(() => station.stop());
    const page = await browser().context.newPage();
    t.after(() => page.close().catch(() => undefined));
    await page.goto(station.url);
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);

    const edl = page.locator(`[data-testid="device-card"][data-device="${row.address}"]`);
    await edl.and(page.locator('[data-mode="edl"][data-state="ready"]')).waitFor(LONG);
    assert.equal(await edl.getAttribute('data-serial'), row.serial);
    await edl.getByTestId('rescue-device').click();

    const flow = page.getByTestId('rescue-flow');
    await flow.getByTestId('rescue-package-path').fill(rescuePkg);
    await flow.getByTestId('rescue-next').click();
    await flow.getByTestId('rescue-backup').fill('boot');
    await flow.getByTestId('rescue-next').click();
    assert.equal(await flow.getByTestId('rescue-confirm-package').textContent(), 'rescue.flp');
    assert.equal(await flow.getByTestId('rescue-confirm-backup').textContent(), 'boot');
    await page.screenshot({ path: join(artifactsDir, 'ui-rescue-confirm.png'), fullPage: true });
    await flow.getByTestId('rescue-start').click();

    const result = flow.getByTestId('rescue-result');
    await result.waitFor({ timeout: 120_000 });
    await page.screenshot({ path: join(artifactsDir, 'ui-rescue-result.png'), fullPage: true });
    assert.equal(await result.getByTestId('status-code').textContent(), '0', await visibleText(flow));
    assert.match(
      (await result.getByTestId('rescue-came-back').textContent()) ?? '',
      new RegExp(row.fastbootAfterRescue),
    );
    assert.match((await result.getByTestId('rescue-backups').textContent()) ?? '', /^boot: .*boot\.img/);
    // The device's own log lines are kept with the result.
    await result.locator('summary', { hasText: 'What the device said' }).click();
    assert.match((await result.getByTestId('rescue-device-log').textContent()) ?? '', /bootable/i);

    // Back in fastboot: a normal device, ready to flash.
    const back = page.locator(`[data-testid="device-card"][data-device="${row.fastbootAfterRescue}"]`);
    await back.and(page.locator('[data-mode="fastboot"][data-state="ready"]')).waitFor(LONG);
    assert.equal(await back.getAttribute('data-serial'), row.serial);
    assert.equal(await edl.getAttribute('data-state'), 'gone');
    await page.screenshot({ path: join(artifactsDir, 'ui-rescue-back.png'), fullPage: true });

    await loadPackageByPath(page, firmware);
    await startFlash(page, [row.fastbootAfterRescue]);
    const job = page.locator(`[data-testid="job"][data-device="${row.fastbootAfterRescue}"]`);
    await job.and(page.locator('[data-state="done"]')).waitFor({ timeout: 120_000 });
    assert.equal(await job.getByTestId('status-code').textContent(), '0');
  });
});
