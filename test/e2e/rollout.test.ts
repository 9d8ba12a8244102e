/**
 * End to end, the rollout view: a real PostgreSQL and a real mosquitto (started here), `flashline station`
 * joined to them with `flashline fleet init`, devices' OTA reports published on the broker as agents publish
 * them, and a station job with the same package in the central history. The fleet screen shows the devices'
 * status codes as they arrive and the rollout per package filling from PostgreSQL; a report sent while the
 * station is stopped appears after it starts again (its persistent session).
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import mqtt, { type MqttClient } from 'mqtt';
import type { Page } from 'playwright-core';
import postgres from 'postgres';
import { JOB_COLUMNS, reportToRow } from '../../main/fleet/rows.js';
import { tempDir } from '../integration/flash/helpers.js';
import { otaReport, publishOtaReport } from '../integration/fleet/ota-reports.js';
import { spawnFlashline } from '../integration/line/helpers.js';
import { fakeReport } from '../support/job-reports.js';
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

const tmp = tempDir('flashline-e2e-rollout-');
let pg: PgCluster;
let broker: Mosquitto;
let browser: Browser;
let device: MqttClient;

before(async () => {
  [pg, broker, browser] = await Promise.all([startPostgres(), startMosquitto(), launchBrowser()]);
  device = await mqtt.connectAsync(broker.url, { clientId: 'e2e-devices' });
});
after(async () => {
  await device?.endAsync();
  await browser?.close();
  await broker?.stop();
  await pg?.destroy();
  tmp.cleanup();
});

/** A home joined to the fleet as station `rollout-dash` at site `plant`. */
async function stationHome(name: string): Promise<string> {
  const home = join(tmp.dir, name);
  const init = spawnFlashline(
    ['fleet', 'init', '--db', pg.url, '--mqtt', broker.url, '--station', 'rollout-dash', '--site', 'plant'],
    home,
  );
  assert.equal(await init.exit, 0, init.stderr());
  return home;
}

async function openFleet(station: StationProcess): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(station.url);
  await page.locator('[data-testid="connection"][data-state="connected"]').waitFor(LONG);
  await page.getByTestId('nav-fleet').click();
  return page;
}

const send = (r: ReturnType<typeof otaReport>) => publishOtaReport(device, 'plant', r);

describe('rollout view in Chromium', () => {
  test('device codes arrive live, the rollout per package fills from PostgreSQL, a report sent while the station was down arrives', {
    timeout: 240_000,
  }, async (t) => {
    let station = await startStationProcess([], { home: await stationHome('dash-1') });
    t.after(() => station.stop());
    let page = await openFleet(station);
    t.after(() => page.close());
    await page.getByTestId('rollout-counts').filter({ hasText: '0 received' }).waitFor(LONG);
    const deviceRow = (serial: string) =>
      page.locator(`[data-testid="rollout-device"][data-serial="${serial}"]`);

    // Two devices updating to demo 2.0.0: one installs it, one fails verification (24).
    const ok = randomUUID();
    const bad = randomUUID();
    await send(otaReport({ attemptId: ok, seq: 0, serial: 'OTA-OK', phase: 'downloading', bytesDone: 500 }));
    await deviceRow('OTA-OK').and(page.locator('[data-phase="downloading"]')).waitFor(LONG);
    assert.match((await deviceRow('OTA-OK').textContent()) ?? '', /downloading 50%/);
    await send(otaReport({ attemptId: bad, seq: 0, serial: 'OTA-BAD', phase: 'verifying' }));
    await send(otaReport({ attemptId: ok, seq: 1, serial: 'OTA-OK', phase: 'done', status: 0 }));
    await send(otaReport({ attemptId: bad, seq: 1, serial: 'OTA-BAD', phase: 'failed', status: 24 }));
    await deviceRow('OTA-OK').and(page.locator('[data-status="0"]')).waitFor(LONG);
    await deviceRow('OTA-BAD').and(page.locator('[data-status="24"]')).waitFor(LONG);

    // A station flashed the same package on a unit by cable.
    const sql = postgres(pg.url, { max: 1, onnotice: () => undefined });
    t.after(() => sql.end({ timeout: 2 }));
    await sql`INSERT INTO fleet_jobs ${sql(
      [reportToRow(fakeReport({ serial: 'CABLE1' }), { station: 'line-1', site: 'plant' }, false)] as never,
      ...JOB_COLUMNS,
    )}`;
    const pkg = () =>
      page.locator('[data-testid="rollout-package"][data-package="demo"][data-version="2.0.0"]');
    await pkg()
      .and(
        page.locator(
          '[data-installed="1"][data-updating="0"][data-device-failed="24 ×1"][data-jobs-passed="1"]',
        ),
      )
      .waitFor(LONG);
    const cells = await pkg().locator('td').allTextContents();
    assert.deepEqual(cells, ['1', '0', '24 ×1', '1', '1', '—']);
    await page.getByTestId('rollout-counts').filter({ hasText: '4 stored' }).waitFor(LONG);
    await page.screenshot({ path: join(artifactsDir, 'ui-rollout.png'), fullPage: true });

    // The station stops; a device reports meanwhile; the station comes back (same site and name).
    await page.close();
    await station.stop();
    const late = randomUUID();
    await send(otaReport({ attemptId: late, seq: 0, serial: 'OTA-LATE', phase: 'failed', status: 46 }));
    station = await startStationProcess([], { home: await stationHome('dash-2') });
    page = await openFleet(station);
    await pkg().and(page.locator('[data-installed="1"][data-device-failed="24 ×1, 46 ×1"]')).waitFor(LONG);
    await deviceRow('OTA-LATE').and(page.locator('[data-status="46"]')).waitFor(LONG);
  });
});
