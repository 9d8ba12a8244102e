/**
 * End to end, technician screens: Debian's Chromium against a station with virtual devices. Every test has
 * its own station, devices and page (ui-session.ts), so each runs alone or in any order. Devices are named
 * by product and serial in a stable order; a package is verified with its signer named; a corrupted or
 * hostile file is refused in plain words and the package already loaded stays loaded; two devices flash with
 * bars, plain phase names and throughput sparklines; a device that cannot boot ends 42 with its remedy; a
 * cancelled job ends 18. Screenshots go to artifacts/.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { statusInfo } from '../../main/common/status-codes.js';
import { artifactsDir } from './browser.js';
import {
  LONG,
  loadPackageByPath,
  openSession,
  sharedBrowser,
  startFlash,
  visibleText,
} from './ui-session.js';

/** Paced links so the bars are seen between 0 and 100. */
const PACED = { rateBytesPerSecond: 192 * 1024 };
const JARGON = /tar\b|gzip|gunzip|malformed_package|header|ENOENT|stack/i;

describe('technician screens in Chromium', () => {
  const browser = sharedBrowser();

  test('devices screen: a card per device, titled by product and serial, in a stable order', async (t) => {
    const s = await openSession(browser(), { devices: 3 });
    t.after(() => s.close());
    const cards = s.page.getByTestId('device-card');
    assert.equal(await cards.count(), 3);
    const headings = await cards.locator('h3').allTextContents();
    for (const h of headings) assert.match(h, /^Flashline Virtual DEMO00\d$/);
    const text = (await cards.first().textContent()) ?? '';
    for (const expected of ['flashline-virtual', 'Virtual', 'Fastboot', '1.0.0', 'Ready']) {
      assert.ok(text.includes(expected), `card shows ${expected}: ${text}`);
    }
    // Stable order: virtual devices get random ports each run, so they are listed by serial.
    const serials = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-serial')));
    assert.deepEqual(serials, ['DEMO001', 'DEMO002', 'DEMO003']);
    await s.page.screenshot({ path: join(artifactsDir, 'ui-devices.png'), fullPage: true });
  });

  test('an uploaded package shows its verification, its signer by name, and is listed once', async (t) => {
    const s = await openSession(browser(), { devices: 3 });
    t.after(() => s.close());
    const { page, rig } = s;
    await page.getByTestId('nav-package').click();
    assert.match(await visibleText(page.getByTestId('no-package')), /Upload a package/);
    await page.screenshot({ path: join(artifactsDir, 'ui-package-empty.png'), fullPage: true });
    await page.getByTestId('nav-flash').click();
    await page.getByTestId('flash-no-package').waitFor(LONG);
    await page.screenshot({ path: join(artifactsDir, 'ui-flash-no-package.png'), fullPage: true });
    await page.getByTestId('nav-package').click();
    // The demo opens its package by path on the station; the technician then uploads the same file (twice):
    // the service holds it under two paths, the list shows it once, by file name.
    await rig.flash.openPackage(rig.demo.packagePath);
    for (let i = 0; i < 2; i++) {
      await page.getByTestId('package-file').setInputFiles(rig.demo.packagePath);
      await page.getByTestId('package-summary').waitFor(LONG);
    }
    assert.equal(await page.getByTestId('pkg-products').textContent(), 'flashline-virtual');
    assert.equal(await page.getByTestId('pkg-version').textContent(), '2.0.0');
    assert.equal(await page.getByTestId('pkg-rollback').textContent(), '2');
    assert.match((await page.getByTestId('pkg-signers').textContent()) ?? '', /^Flashline demo key/);
    assert.equal(await page.getByTestId('pkg-file').textContent(), 'flashline-demo.flp');
    assert.match((await page.getByTestId('pkg-expires').textContent()) ?? '', /^\d{4}-\d\d-\d\d /);
    const images = (await page.getByTestId('pkg-images').textContent()) ?? '';
    assert.match(images, /boot128\.0 KiB/);
    assert.match(images, /system384\.0 KiB/);
    assert.equal(await page.locator('[data-testid="package-fit"] li[data-fits="true"]').count(), 3);
    const listed = page.getByTestId('verified-list').getByRole('listitem');
    await listed.first().waitFor(LONG);
    assert.ok(new Set(rig.flash.packages().map((p) => p.path)).size >= 2);
    assert.equal(await listed.count(), 1);
    assert.match((await listed.first().textContent()) ?? '', /^flashline-demo\.flp flashline-demo 2\.0\.0/);
    // The key id is a detail: not shown until asked for.
    assert.doesNotMatch(await visibleText(page.getByTestId('package-summary')), /Signer key ids/);
    await page.getByTestId('pkg-details').locator('summary').click();
    assert.match(await visibleText(page.getByTestId('pkg-key-ids')), /^[0-9a-f]{16}$/);
    await page.screenshot({ path: join(artifactsDir, 'ui-package.png'), fullPage: true });
  });

  test('a corrupted or hostile file after a good package is refused in plain words and the good one stays loaded', async (t) => {
    const s = await openSession(browser(), { devices: 2 });
    t.after(() => s.close());
    const { page, rig } = s;
    await page.getByTestId('nav-package').click();
    await page.getByTestId('package-file').setInputFiles(rig.demo.packagePath);
    await page.getByTestId('package-summary').waitFor(LONG);

    const corrupted = join(rig.home, 'corrupted.flp');
    writeFileSync(corrupted, randomBytes(8192));
    await page.getByTestId('package-file').setInputFiles(corrupted);
    const refusal = page.getByTestId('package-error');
    await refusal.waitFor(LONG);
    assert.equal(await refusal.getByTestId('status-code').textContent(), '21');
    assert.equal(await refusal.getByTestId('status-message').textContent(), statusInfo(21).message);
    assert.ok(
      ((await refusal.getByTestId('status-remedy').textContent()) ?? '').includes(statusInfo(21).remedy),
    );
    const seen = await visibleText(page.getByTestId('package-error'));
    assert.doesNotMatch(seen, JARGON, `no internals in: ${seen}`);
    assert.match(seen, /flashline-demo\.flp \(flashline-demo 2\.0\.0\) is still the loaded package/);
    // The good package is still loaded, here and on the Flash screen.
    assert.equal(await page.getByTestId('pkg-file').textContent(), 'flashline-demo.flp');
    await page.screenshot({ path: join(artifactsDir, 'ui-package-corrupted.png'), fullPage: true });
    // The internals are one click away, for support.
    await refusal.getByTestId('status-details').locator('summary').click();
    assert.match(
      await visibleText(page.getByTestId('status-details')),
      /Status 21 \(malformed_package\)[\s\S]*damaged/,
    );
    await page.screenshot({ path: join(artifactsDir, 'ui-package-corrupted-details.png'), fullPage: true });
    await page.getByTestId('nav-flash').click();
    await page.getByRole('button', { name: /^Flash 0 devices/ }).waitFor(LONG);
    assert.equal(await page.getByText('Open and verify a package first.').count(), 0);

    // A signed field changed after signing: 22 in the table's words; still the good package loaded.
    await page.getByTestId('nav-package').click();
    const bytes = readFileSync(rig.demo.packagePath);
    const at = bytes.indexOf('"rollbackIndex":2');
    assert.ok(at > 0);
    bytes.write('"rollbackIndex":9', at);
    const hostile = join(rig.home, 'hostile.flp');
    writeFileSync(hostile, bytes);
    await page.getByTestId('package-file').setInputFiles(hostile);
    await refusal.getByTestId('status-code').filter({ hasText: '22' }).waitFor(LONG);
    assert.equal(await refusal.getByTestId('status-message').textContent(), statusInfo(22).message);
    assert.equal(await page.getByTestId('package-summary').count(), 1);
    await page.screenshot({ path: join(artifactsDir, 'ui-package-hostile.png'), fullPage: true });

    // A file that is not a package never leaves the page; the good package stays.
    const notFlp = join(rig.home, 'notes.txt');
    writeFileSync(notFlp, 'hello');
    await page.getByTestId('package-file').setInputFiles(notFlp);
    await refusal.filter({ hasText: 'not a Flashline package' }).waitFor(LONG);
    assert.equal(await page.getByTestId('pkg-file').textContent(), 'flashline-demo.flp');
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

  test('flash two devices: confirm, progress in plain words, both end OK without a Cancel button', async (t) => {
    const s = await openSession(browser(), { devices: 3, faults: () => PACED });
    t.after(() => s.close());
    const { page, rig } = s;
    const a = s.idOf('DEMO001');
    const b = s.idOf('DEMO002');
    await loadPackageByPath(page, rig.demo.packagePath);
    await page.getByTestId('nav-flash').click();
    await recordBars(page);
    await page.locator(`[data-testid="pick-device"][data-device="${a}"]`).check();
    await page.locator(`[data-testid="pick-device"][data-device="${b}"]`).check();
    await page.getByRole('button', { name: 'Flash 2 devices…' }).click();
    await page.getByTestId('confirm-dialog').waitFor();
    // Keyboard: focus starts on Cancel; Tab then Enter confirms.
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Cancel');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    // Phases and speeds as shown while running (sampled; the moment is up to the devices).
    const phases = new Set<string>();
    const speeds: string[] = [];
    for (let i = 0; i < 400; i++) {
      const state = (await page.evaluate(`(() => {
        const rows = [...document.querySelectorAll('[data-testid=job]')];
        const ended = rows.filter((r) => ['done', 'failed'].includes(r.getAttribute('data-state'))).length;
        const mid = [...document.querySelectorAll('[role=progressbar]')].some((e) => {
          const v = Number(e.getAttribute('aria-valuenow'));
          return v > 10 && v < 70;
        });
        const seen = rows.map((r) => [
          r.querySelector('[data-testid=job-stage]')?.textContent ?? '',
          (r.querySelector('[data-testid=job-rate]')?.textContent ?? '') + '|' + (r.querySelector('[data-testid=job-eta]')?.textContent ?? ''),
        ]);
        return JSON.stringify({ s: mid ? 'mid' : ended >= 2 ? 'ended' : 'wait', seen });
      })()`)) as string;
      const parsed = JSON.parse(state) as { s: string; seen: [string, string][] };
      for (const [phase, speed] of parsed.seen) {
        phases.add(phase);
        speeds.push(speed);
      }
      if (parsed.s === 'mid') {
        await page.screenshot({ path: join(artifactsDir, 'ui-flash-progress.png'), fullPage: true });
      }
      if (parsed.s === 'ended') break;
      await new Promise((r) => setTimeout(r, 25));
    }
    const plain = [
      'Waiting to start',
      'Checking device',
      'Downloading',
      'Verifying',
      'Installing',
      'Switching slot',
      'Confirming boot',
      'Done',
    ];
    for (const p of phases) assert.ok(plain.includes(p), `phase in plain words: ${p}`);
    assert.ok(phases.has('Downloading'), `saw Downloading: ${[...phases]}`);
    for (const sp of speeds) {
      assert.doesNotMatch(sp, /—|0:00/, `no unknown rate or zero ETA shown: ${sp}`);
    }
    for (const [id, serial] of [
      [a, 'DEMO001'],
      [b, 'DEMO002'],
    ] as const) {
      const job = page.locator(`[data-testid="job"][data-device="${id}"]`);
      await job.and(page.locator('[data-state="done"]')).waitFor(LONG);
      assert.equal(await job.getByRole('progressbar').getAttribute('aria-valuenow'), '100');
      assert.equal(await job.getByTestId('status-code').textContent(), '0');
      assert.equal(await job.getByTestId('job-serial').textContent(), serial);
      assert.equal(await job.getByTestId('job-device').textContent(), 'Flashline Virtual');
      assert.doesNotMatch((await job.textContent()) ?? '', /127\.0\.0\.1|tcp:/);
      assert.equal(await job.getByRole('button', { name: /^Cancel/ }).count(), 0);
      // Throughput over time: a sparkline, with its numbers as text.
      assert.equal(await job.getByTestId('job-sparkline').locator('canvas').count(), 1);
      assert.match(
        (await job.getByTestId('job-throughput').textContent()) ?? '',
        /^Speed: average \d+\.\d MB\/s, peak \d+\.\d MB\/s$/,
      );
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

  test('a device that cannot boot the new slot ends with its status code and remedy', async (t) => {
    const s = await openSession(browser(), { devices: 1, faults: () => ({ badBoot: ['b'] }) });
    t.after(() => s.close());
    const { page, rig } = s;
    const c = s.idOf('DEMO001');
    await loadPackageByPath(page, rig.demo.packagePath);
    await startFlash(page, [c]);
    const job = page.locator(`[data-testid="job"][data-device="${c}"]`);
    await job.and(page.locator('[data-state="failed"]')).waitFor(LONG);
    const info = statusInfo(42);
    assert.equal(await job.getByTestId('status-code').textContent(), '42');
    assert.equal(await job.getByTestId('job-stage').textContent(), 'Failed');
    assert.match((await job.getByTestId('status-message').textContent()) ?? '', /slot/);
    assert.ok(((await job.getByTestId('status-remedy').textContent()) ?? '').includes(info.remedy));
    // The code's internal name is a detail.
    assert.doesNotMatch(await visibleText(job), /booted_old_slot/);
    await page.screenshot({ path: join(artifactsDir, 'ui-flash-fault.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(artifactsDir, 'ui-flash-fault-dark.png'), fullPage: true });
  });

  test('cancel stops a running job safely and says so', async (t) => {
    const s = await openSession(browser(), { devices: 1, faults: () => ({ rateBytesPerSecond: 64 * 1024 }) });
    t.after(() => s.close());
    const { page, rig } = s;
    const a = s.idOf('DEMO001');
    await loadPackageByPath(page, rig.demo.packagePath);
    await startFlash(page, [a]);
    const job = page.locator(`[data-testid="job"][data-device="${a}"][data-state="running"]`);
    await job.waitFor(LONG);
    await job.getByRole('button', { name: /^Cancel/ }).click();
    const ended = page.locator(`[data-testid="job"][data-device="${a}"][data-state="failed"]`);
    await ended.waitFor(LONG);
    assert.equal(await ended.getByTestId('status-code').textContent(), '18');
    assert.equal(await ended.getByTestId('job-stage').textContent(), 'Stopped');
    assert.ok(
      ((await ended.getByTestId('status-remedy').textContent()) ?? '').includes(statusInfo(18).remedy),
    );
    assert.equal(await ended.getByRole('button', { name: /^Cancel/ }).count(), 0);
    await page.screenshot({ path: join(artifactsDir, 'ui-flash-cancelled.png'), fullPage: true });
  });
});
