/**
 * End to end, technician screens: Debian's Chromium against a station with three virtual devices (the
 * third cannot boot slot b). Load a package by upload and see its verification; a hostile package is
 * refused with its reason; flash two devices and watch their bars advance to OK; the faulty device ends
 * with status 42 and its remedy; History filters and exports what happened. Screenshots go to artifacts/.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { statusInfo } from '../../main/common/status-codes.js';
import { artifactsDir, type Browser, launchBrowser } from './browser.js';
import { startUiRig, type UiRig } from './rig.js';

const LONG = { timeout: 60_000 };

describe('technician screens in Chromium', () => {
  let rig: UiRig;
  let browser: Browser;
  let page: Page;

  before(async () => {
    rig = await startUiRig({
      devices: 3,
      faults: (i) =>
        // Paced links so the bars are seen between 0 and 100; the third device never boots slot b.
        i === 2 ? { badBoot: ['b'] } : { rateBytesPerSecond: 192 * 1024 },
    });
    browser = await launchBrowser();
    page = await browser.context.newPage();
    await page.goto(rig.station.url);
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);
    await page.getByTestId('device-count').filter({ hasText: '3 connected' }).waitFor(LONG);
  });

  after(async () => {
    await browser?.close();
    await rig?.stop();
  });

  const serialId = (serial: string) => {
    const d = rig.registry.list().find((x) => x.serial === serial);
    assert.ok(d, `device ${serial} is in the registry`);
    return d.id;
  };

  test('devices screen shows a live card per device', async () => {
    const cards = page.getByTestId('device-card');
    assert.equal(await cards.count(), 3);
    const text = (await cards.first().textContent()) ?? '';
    for (const expected of ['flashline-virtual', 'DEMO00', 'Virtual', 'fastboot', '1.0.0']) {
      assert.ok(text.includes(expected), `card shows ${expected}: ${text}`);
    }
    await page.screenshot({ path: join(artifactsDir, 'ui-devices.png'), fullPage: true });
  });

  test('an uploaded package shows its verification summary and which devices it fits', async () => {
    await page.getByTestId('nav-package').click();
    await page.getByTestId('package-file').setInputFiles(rig.demo.packagePath);
    const summary = page.getByTestId('package-summary');
    await summary.waitFor(LONG);
    assert.equal(await page.getByTestId('pkg-products').textContent(), 'flashline-virtual');
    assert.equal(await page.getByTestId('pkg-version').textContent(), '2.0.0');
    assert.equal(await page.getByTestId('pkg-rollback').textContent(), '2');
    assert.match((await page.getByTestId('pkg-signers').textContent()) ?? '', /\S{6,}/);
    assert.match((await page.getByTestId('pkg-expires').textContent()) ?? '', /^\d{4}-\d\d-\d\d /);
    const images = (await page.getByTestId('pkg-images').textContent()) ?? '';
    assert.match(images, /boot128\.0 KiB/);
    assert.match(images, /system384\.0 KiB/);
    assert.equal(await page.locator('[data-testid="package-fit"] li[data-fits="true"]').count(), 3);
    await page.screenshot({ path: join(artifactsDir, 'ui-package.png'), fullPage: true });
  });

  test('a hostile package is refused in the UI with its reason', async () => {
    // Same file with one signed manifest field changed: the signature no longer matches.
    const bytes = readFileSync(rig.demo.packagePath);
    const at = bytes.indexOf('"rollbackIndex":2');
    assert.ok(at > 0);
    bytes.write('"rollbackIndex":9', at);
    const hostile = join(rig.home, 'hostile.flp');
    writeFileSync(hostile, bytes);
    await page.getByTestId('package-file').setInputFiles(hostile);
    const refusal = page.getByTestId('package-error');
    await refusal.waitFor(LONG);
    const code = Number(await refusal.getByTestId('status-code').textContent());
    assert.ok(code >= 20 && code <= 29, `a verify_failed code, got ${code}`);
    assert.ok(((await refusal.getByTestId('status-message').textContent()) ?? '').length > 10);
    assert.ok(
      ((await refusal.getByTestId('status-remedy').textContent()) ?? '').includes(statusInfo(code).remedy),
    );
    assert.equal(await page.getByTestId('package-summary').count(), 0);
    await page.screenshot({ path: join(artifactsDir, 'ui-package-hostile.png'), fullPage: true });
    // Nothing can be flashed now.
    await page.getByTestId('nav-flash').click();
    await page.getByText('Open and verify a package first.').waitFor();
    // A file that is not a package never leaves the page.
    await page.getByTestId('nav-package').click();
    const notFlp = join(rig.home, 'notes.txt');
    writeFileSync(notFlp, 'hello');
    await page.getByTestId('package-file').setInputFiles(notFlp);
    await refusal.filter({ hasText: 'not a Flashline package' }).waitFor(LONG);
    // The verified package is one click away again.
    await page.getByRole('button', { name: /flashline-demo 2\.0\.0/ }).click();
    await page.getByTestId('package-summary').waitFor(LONG);
  });

  /** Record every aria-valuenow each job's bar takes, from inside the page. */
  async function recordBars(p: Page): Promise<void> {
    await p.evaluate(`(() => {
      window.__bars = {};
      const seen = (el) => {
        const job = el.closest('[data-testid="job"]');
        if (!job) return;
        const key = job.getAttribute('data-device');
        (window.__bars[key] ??= []).push(Number(el.getAttribute('aria-valuenow')));
      };
      new MutationObserver((records) => {
        for (const r of records) {
          if (r.type === 'attributes') seen(r.target);
          for (const n of r.addedNodes) if (n.querySelectorAll) n.querySelectorAll('[role=progressbar]').forEach(seen);
        }
      }).observe(document.body, { subtree: true, childList: true, attributes: true, attributeFilter: ['aria-valuenow'] });
    })()`);
  }

  test('flash two devices: confirm, progress advances, both end OK', async () => {
    const a = serialId('DEMO001');
    const b = serialId('DEMO002');
    await page.getByTestId('nav-flash').click();
    await recordBars(page);
    await page.locator(`[data-testid="pick-device"][data-device="${a}"]`).check();
    await page.locator(`[data-testid="pick-device"][data-device="${b}"]`).check();
    await page.getByRole('button', { name: 'Flash 2 devices…' }).click();
    const dialog = page.getByTestId('confirm-dialog');
    await dialog.waitFor();
    // Keyboard: focus starts on Cancel; Tab then Enter confirms.
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Cancel');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    // An artifact of a bar on its way (not an assertion: the moment is up to the devices). Polled with
    // evaluate, which the page's CSP allows, until a bar is mid-way or both jobs have ended.
    for (let i = 0; i < 400; i++) {
      const state = (await page.evaluate(`(() => {
        const ended = document.querySelectorAll('[data-testid=job][data-state=done], [data-testid=job][data-state=failed]').length;
        const mid = [...document.querySelectorAll('[role=progressbar]')].some((e) => {
          const v = Number(e.getAttribute('aria-valuenow'));
          return v > 10 && v < 70;
        });
        return mid ? 'mid' : ended >= 2 ? 'ended' : 'wait';
      })()`)) as string;
      if (state === 'mid')
        await page.screenshot({ path: join(artifactsDir, 'ui-flash-progress.png'), fullPage: true });
      if (state !== 'wait') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    for (const id of [a, b]) {
      const job = page.locator(`[data-testid="job"][data-device="${id}"]`);
      await job.and(page.locator('[data-state="done"]')).waitFor(LONG);
      assert.equal(await job.getByRole('progressbar').getAttribute('aria-valuenow'), '100');
      assert.equal(await job.getByTestId('status-code').textContent(), '0');
    }
    await page.screenshot({ path: join(artifactsDir, 'ui-flash-ok.png'), fullPage: true });
    const bars = (await page.evaluate('window.__bars')) as Record<string, number[]>;
    for (const id of [a, b]) {
      const values = bars[id] ?? [];
      assert.ok(values.length >= 3, `bar of ${id} updated: ${values}`);
      assert.ok(
        values.some((v) => v > 0 && v < 100),
        `bar of ${id} showed progress between: ${values}`,
      );
      for (let i = 1; i < values.length; i++) {
        assert.ok((values[i] ?? 0) >= (values[i - 1] ?? 0), `bar of ${id} never goes back: ${values}`);
      }
      assert.equal(values.at(-1), 100);
    }
  });

  test('a device that cannot boot the new slot ends with its status code and remedy', async () => {
    const c = serialId('DEMO003');
    await page.locator(`[data-testid="pick-device"][data-device="${c}"]`).check();
    await page.getByRole('button', { name: 'Flash 1 device…' }).click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Flash 1' }).click();
    const job = page.locator(`[data-testid="job"][data-device="${c}"]`);
    await job.and(page.locator('[data-state="failed"]')).waitFor(LONG);
    const info = statusInfo(42);
    assert.equal(await job.getByTestId('status-code').textContent(), '42');
    assert.match((await job.getByTestId('status-message').textContent()) ?? '', /slot/);
    assert.ok(((await job.getByTestId('status-remedy').textContent()) ?? '').includes(info.remedy));
    await page.screenshot({ path: join(artifactsDir, 'ui-flash-fault.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(artifactsDir, 'ui-flash-fault-dark.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'light' });
  });

  test('history lists the jobs, filters them and exports CSV and JSON', async () => {
    await page.getByTestId('nav-history').click();
    const rows = page.getByTestId('history-row');
    await page.getByText('3 of 3 jobs').waitFor(LONG);
    assert.equal(await rows.count(), 3);
    await page.getByTestId('history-filter').fill('DEMO003');
    await page.getByText('1 of 3 jobs').waitFor();
    assert.match((await rows.first().textContent()) ?? '', /42 booted_old_slot/);
    await page.screenshot({ path: join(artifactsDir, 'ui-history.png'), fullPage: true });
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    // The service made the file: the same CSV as `flashline report export`, only the row shown.
    const csvText = readFileSync((await csv.path()) ?? '', 'utf8');
    assert.match(csv.suggestedFilename(), /^flashline-history-\d{8}T\d{6}\.csv$/);
    assert.match(csvText.split('\n')[0] ?? '', /^jobId,deviceId,serial,product/);
    assert.equal(csvText.trim().split('\n').length, 2);
    assert.match(csvText, /,DEMO003,/);
    assert.equal(
      await page.getByTestId('history-exported').textContent(),
      `Exported 1 job to ${csv.suggestedFilename()}.`,
    );
    await page.getByTestId('history-filter').fill('');
    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSON' }).click(),
    ]);
    const exported = JSON.parse(readFileSync((await json.path()) ?? '', 'utf8')) as { status: number }[];
    assert.deepEqual(
      exported.map((r) => r.status).sort((x, y) => x - y),
      [0, 0, 42],
    );
  });

  test('cancel stops a running job safely and says so', async () => {
    const a = serialId('DEMO001');
    await page.getByTestId('nav-flash').click();
    await page.locator(`[data-testid="pick-device"][data-device="${a}"]`).check();
    await page.getByRole('button', { name: 'Flash 1 device…' }).click();
    await page.getByTestId('confirm-dialog').getByRole('button', { name: 'Flash 1' }).click();
    const job = page.locator(`[data-testid="job"][data-device="${a}"][data-state="running"]`);
    await job.waitFor(LONG);
    await job.getByRole('button', { name: /^Cancel/ }).click();
    const ended = page.locator(`[data-testid="job"][data-device="${a}"][data-state="failed"]`);
    await ended.waitFor(LONG);
    assert.equal(await ended.getByTestId('status-code').textContent(), '18');
    assert.ok(
      ((await ended.getByTestId('status-remedy').textContent()) ?? '').includes(statusInfo(18).remedy),
    );
    await page.screenshot({ path: join(artifactsDir, 'ui-flash-cancelled.png'), fullPage: true });
  });
});
