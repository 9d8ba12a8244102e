/**
 * End to end, History: a fresh station says there is nothing yet; jobs run on the station appear with their
 * status in words; the filter narrows the list (and says so when nothing matches); CSV and JSON exports are
 * made by the service with the same filter, and the CSV's rate is in MB/s as on the screen.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { statusInfo } from '../../main/common/status-codes.js';
import { artifactsDir } from './browser.js';
import { LONG, openSession, sharedBrowser } from './ui-session.js';

describe('history in Chromium', () => {
  const browser = sharedBrowser();

  test('empty at first, then lists, filters and exports the jobs run on the station', async (t) => {
    const s = await openSession(browser(), {
      devices: 2,
      faults: (i) => (i === 1 ? { badBoot: ['b'] } : undefined),
    });
    t.after(() => s.close());
    const { page, rig } = s;
    await page.getByTestId('nav-history').click();
    const empty = page.getByTestId('history-empty');
    await empty.filter({ hasText: 'No jobs yet' }).waitFor(LONG);
    assert.equal(await page.getByRole('button', { name: 'Export CSV' }).isDisabled(), true);
    await page.screenshot({ path: join(artifactsDir, 'ui-history-empty.png'), fullPage: true });

    // Jobs started on the station (another page, the CLI of the same service): the screen follows.
    await rig.flash.flash(rig.demo.packagePath, [s.idOf('DEMO001'), s.idOf('DEMO002')]);
    await rig.flash.manager.waitAll();
    const rows = page.getByTestId('history-row');
    await page.getByText('2 of 2 jobs').waitFor(LONG);
    assert.equal(await rows.count(), 2);
    const texts = await rows.allTextContents();
    const failed = texts.find((r) => r.includes('DEMO002')) ?? '';
    assert.ok(failed.includes(`42 ${statusInfo(42).message}`), failed);
    const ok = texts.find((r) => r.includes('DEMO001')) ?? '';
    assert.match(ok, /0 OK/);
    const screenRate = /(\d+\.\d) MB\/s$/.exec(ok)?.[1];
    assert.ok(screenRate, `rate in MB/s on screen: ${ok}`);
    // Headers sit over their values: the rate header is right-aligned like its numbers.
    const aligned = await page.evaluate(`(() => {
      const th = [...document.querySelectorAll('table.history th')].find((e) => e.textContent === 'Rate');
      const td = document.querySelector('table.history tbody tr td:last-child');
      return [getComputedStyle(th).textAlign, getComputedStyle(td).textAlign];
    })()`);
    assert.deepEqual(aligned, ['right', 'right']);
    // The placeholder fits its box.
    const fits = await page.getByTestId('history-filter').evaluate((el) => {
      const input = el as unknown as { scrollWidth: number; clientWidth: number };
      return input.scrollWidth <= input.clientWidth;
    });
    assert.equal(fits, true);
    await page.screenshot({ path: join(artifactsDir, 'ui-history.png'), fullPage: true });

    await page.getByTestId('history-filter').fill('DEMO001');
    await page.getByText('1 of 2 jobs').waitFor(LONG);
    const [csv] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export CSV' }).click(),
    ]);
    const csvText = readFileSync((await csv.path()) ?? '', 'utf8');
    assert.match(csv.suggestedFilename(), /^flashline-history-\d{8}T\d{6}\.csv$/);
    const [head, line] = csvText.trim().split('\n');
    assert.match(head ?? '', /^jobId,deviceId,serial,product/);
    assert.equal(csvText.trim().split('\n').length, 2);
    const cols = (head ?? '').split(',');
    const rate = (line ?? '').split(',')[cols.indexOf('rateMBps')];
    assert.equal(rate, screenRate, 'the CSV rate is the MB/s the screen shows');
    assert.equal(
      await page.getByTestId('history-exported').textContent(),
      `Exported 1 job to ${csv.suggestedFilename()}.`,
    );

    await page.getByTestId('history-filter').fill('no-such-unit');
    await empty.filter({ hasText: 'No jobs match this filter' }).waitFor(LONG);
    await page.getByTestId('history-filter').fill('');
    const [json] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Export JSON' }).click(),
    ]);
    const exported = JSON.parse(readFileSync((await json.path()) ?? '', 'utf8')) as { status: number }[];
    assert.deepEqual(
      exported.map((r) => r.status).sort((x, y) => x - y),
      [0, 42],
    );
  });
});
