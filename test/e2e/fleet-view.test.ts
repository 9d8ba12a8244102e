/**
 * End to end, the fleet view: a real PostgreSQL and a real mosquitto (started here), two `flashline line`
 * processes (stations line-1 and line-2, each its own FLASHLINE_HOME joined with `flashline fleet init`)
 * flash a virtual unit each — one passes, one fails its postcheck (42) — and `flashline station` (a third
 * home, the dashboard) serves the UI. The Fleet screen shows the stations online/offline, the failure with
 * its serial, answers "product flashline-virtual failed with 4x today" from PostgreSQL, and sees a killed
 * line go offline (Last Will).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { makeDemoPackage } from '../../main/cli/commands/demo.js';
import { SMALL_PACKAGE, tempDir } from '../integration/flash/helpers.js';
import { freePorts, type LineChild, spawnFlashline, startUnit } from '../integration/line/helpers.js';
import { type Mosquitto, startMosquitto } from '../support/mosquitto.js';
import { type PgCluster, startPostgres } from '../support/postgres.js';
import {
  artifactsDir,
  type Browser,
  launchBrowser,
  type StationProcess,
  startStationProcess,
} from './browser.js';
import { LONG } from './ui-session.js';

const tmp = tempDir('flashline-e2e-fleet-');
let pg: PgCluster;
let broker: Mosquitto;
let browser: Browser;

before(async () => {
  [pg, broker, browser] = await Promise.all([startPostgres(), startMosquitto(), launchBrowser()]);
});
after(async () => {
  await browser?.close();
  await broker?.stop();
  await pg?.destroy();
  tmp.cleanup();
});

async function joinFleet(home: string, station: string): Promise<void> {
  const init = spawnFlashline(
    ['fleet', 'init', '--db', pg.url, '--mqtt', broker.url, '--station', station, '--site', 'plant'],
    home,
  );
  assert.equal(await init.exit, 0, init.stderr());
}

/** Resolves when the line printed its summary for `units` units (it keeps running). */
function untilEnded(line: LineChild, units: number): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (line.lines.filter((l) => l.includes('"type":"end"')).length >= units) resolve();
    };
    line.onLine(check);
    check();
  });
}

describe('fleet view in Chromium', () => {
  test('stations, last failures, a search across stations from PostgreSQL, a killed line offline', {
    timeout: 240_000,
  }, async (t) => {
    const pkg = await makeDemoPackage(join(tmp.dir, 'fleet.flp'), SMALL_PACKAGE);
    const homes = ['line-1', 'line-2', 'dash'].map((n) => join(tmp.dir, n));
    for (const [i, name] of ['line-1', 'line-2', 'dash'].entries()) await joinFleet(homes[i] ?? '', name);
    const ports = await freePorts(2);
    const lines = ports.map((port, i) =>
      spawnFlashline(
        [
          'line',
          pkg,
          '--device',
          `tcp:127.0.0.1:${port}`,
          '--poll',
          '150',
          '--no-usb',
          '--no-list-serial',
          '--json',
        ],
        homes[i] ?? '',
      ),
    );
    t.after(() => {
      for (const l of lines)
        if (l.child.exitCode === null && l.child.signalCode === null) l.child.kill('SIGKILL');
    });
    const units = await Promise.all([
      startUnit(tmp.dir, ports[0] ?? 0, 'FLEETOK1'),
      startUnit(tmp.dir, ports[1] ?? 0, 'FLEETBAD1', { badBoot: ['b'] }),
    ]);
    t.after(async () => {
      for (const u of units) await u.stop();
    });
    await Promise.all(lines.map((l) => untilEnded(l, 1)));

    let station: StationProcess | undefined;
    station = await startStationProcess([], { home: homes[2] });
    t.after(() => station?.stop());
    const page = await browser.context.newPage();
    t.after(() => page.close());
    await page.goto(station.url);
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);
    await page.getByTestId('nav-fleet').click();

    // Three stations on the bus (the dashboard publishes too), all online.
    const row = (name: string) => page.locator(`[data-testid="fleet-station"][data-station="${name}"]`);
    for (const name of ['line-1', 'line-2', 'dash'])
      await row(name).and(page.locator('[data-online="true"]')).waitFor(LONG);
    await page.getByTestId('fleet-summary').filter({ hasText: '3 of 3 stations online' }).waitFor(LONG);
    // The failed unit, with its serial, from PostgreSQL (the lines' outboxes ship each job when it ends).
    await page.locator('[data-testid="fleet-failures-row"][data-serial="FLEETBAD1"]').waitFor(LONG);
    assert.match((await page.getByTestId('fleet-failures-row').first().textContent()) ?? '', /42/);
    await page.getByTestId('fleet-code-row').first().waitFor(LONG);
    await page.getByTestId('fleet-throughput-chart').waitFor(LONG);

    // "All units of product flashline-virtual that failed with 4x today", across both lines.
    await page.getByTestId('fleet-search-product').fill('flashline-virtual');
    await page.getByTestId('fleet-search-status').fill('4x');
    await page.getByTestId('fleet-search-since').selectOption('today');
    await page.getByTestId('fleet-search-go').click();
    await page.getByTestId('fleet-search-count').filter({ hasText: '1 job' }).waitFor(LONG);
    const found = page.getByTestId('fleet-search-results-row');
    assert.equal(await found.count(), 1);
    assert.equal(await found.first().getAttribute('data-serial'), 'FLEETBAD1');
    assert.match((await found.first().textContent()) ?? '', /line-2/);
    // Every job of both lines, from either station's point of view: the passed one is there too.
    await page.getByTestId('fleet-search-status').fill('');
    await page.getByTestId('fleet-search-go').click();
    await page.getByTestId('fleet-search-count').filter({ hasText: '2 jobs' }).waitFor(LONG);
    await page.screenshot({ path: join(artifactsDir, 'ui-fleet.png'), fullPage: true });

    // A line killed without a goodbye: the broker's Last Will turns it offline on the screen.
    lines[0]?.child.kill('SIGKILL');
    await row('line-1').and(page.locator('[data-online="false"]')).waitFor(LONG);
    assert.match((await row('line-1').textContent()) ?? '', /offline \(lost\)/);
    await row('line-2').and(page.locator('[data-online="true"]')).waitFor(LONG);
  });
});
