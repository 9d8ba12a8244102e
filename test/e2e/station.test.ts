/**
 * End to end: Debian's Chromium opens `flashline station` (a real child process) with the token, sees
 * the first screen (header with version, connection indicator, device list / empty state), and the
 * station refuses the API without the token. A second station, in this process with a registry the test
 * feeds, proves device cards appear, change and disappear live over the WebSocket.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, type TestContext, test } from 'node:test';
import WebSocket from 'ws';
import { DeviceRegistry } from '../../main/devices/registry.js';
import { ensureRendererBuilt } from '../../main/station/renderer-assets.js';
import { createService } from '../../main/station/run-station.js';
import { startStation } from '../../main/station/server.js';
import {
  artifactsDir,
  type Browser,
  launchBrowser,
  projectRoot,
  type StationProcess,
  startStationProcess,
} from './browser.js';

const version = (JSON.parse(readFileSync(join(projectRoot, 'package.json'), 'utf8')) as { version: string })
  .version;

function wsUpgradeStatus(url: string): Promise<number | 'open'> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => {
      ws.close();
      resolve('open');
    });
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.once('error', (err) => reject(err));
  });
}

describe('station UI in Chromium', () => {
  let station: StationProcess;
  let browser: Browser;

  before(async () => {
    station = await startStationProcess();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await station?.stop();
  });

  test('opens with the token and shows the first screen', async () => {
    const page = await browser.context.newPage();
    await page.goto(station.url);
    await page
      .getByTestId('app-version')
      .filter({ hasText: `v${version}` })
      .waitFor();
    assert.equal(await page.getByRole('heading', { level: 1 }).textContent(), 'Flashline');
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
    await page.getByTestId('empty-state').waitFor();
    assert.match((await page.getByTestId('empty-state').textContent()) ?? '', /npm run demo/);
    assert.equal(await page.getByTestId('device-count').textContent(), '0 connected');
    // The token left the address bar but the session keeps it.
    assert.equal(new URL(page.url()).searchParams.has('token'), false);
    assert.equal(await page.evaluate("sessionStorage.getItem('flashline.stationToken')"), station.token);
    await page.screenshot({ path: join(artifactsDir, 'station-empty.png'), fullPage: true });
    // Keyboard: the first Tab reaches the skip link, which moves focus to the device list.
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent'), 'Skip to devices');
    await page.keyboard.press('Enter');
    assert.equal(await page.evaluate('document.activeElement?.id'), 'devices-heading');
    // A reload still connects, with the token from the session.
    await page.reload();
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
    await page.close();
  });

  test('a page without the token is not connected and says what to do', async () => {
    const page = await browser.context.newPage();
    await page.goto(station.origin);
    const indicator = page.locator('[data-testid="connection"][data-state="disconnected"]');
    await indicator.waitFor();
    assert.match((await indicator.getAttribute('title')) ?? '', /station token/);
    await page.close();
  });

  test('the API refuses calls without the token', async () => {
    const noToken = await fetch(`${station.origin}/api`);
    assert.equal(noToken.status, 401);
    assert.equal(((await noToken.json()) as { code: string }).code, 'unauthorized');
    const wrongToken = await fetch(`${station.origin}/api?token=${'x'.repeat(station.token.length)}`);
    assert.equal(wrongToken.status, 401);
    const wsBase = station.origin.replace(/^http/, 'ws');
    assert.equal(await wsUpgradeStatus(`${wsBase}/api`), 401);
    assert.equal(await wsUpgradeStatus(`${wsBase}/api?token=wrong`), 401);
    assert.equal(await wsUpgradeStatus(`${wsBase}/api?token=${station.token}`), 'open');
  });

  test('pages carry a CSP that forbids inline code', async () => {
    const res = await fetch(station.origin);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.doesNotMatch(await res.text(), /<script>(?!<\/script>)|style="/);
  });

  test('the page has an icon the station serves', async () => {
    const html = await (await fetch(station.origin)).text();
    assert.match(html, /<link rel="icon" href="\.\/favicon\.svg" type="image\/svg\+xml"/);
    const icon = await fetch(`${station.origin}/favicon.svg`);
    assert.equal(icon.status, 200);
    assert.match(icon.headers.get('content-type') ?? '', /^image\/svg\+xml/);
    assert.match(await icon.text(), /^<svg /);
  });
});

describe('live device list in Chromium', () => {
  let browser: Browser;

  before(async () => {
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
  });

  /** Each test has its own registry and station, so none sees another's devices. */
  async function liveStation(t: TestContext) {
    const devices = new DeviceRegistry();
    const staticDir = await ensureRendererBuilt(() => undefined);
    const live = {
      devices,
      station: await startStation({
        host: '127.0.0.1',
        port: 0,
        staticDir,
        service: createService({ devices }),
      }),
    };
    t.after(() => live.station.close());
    return live;
  }

  test('cards appear, change and disappear as the registry changes', async (t) => {
    const { devices, station } = await liveStation(t);
    const page = await browser.context.newPage();
    t.after(() => page.close());
    await page.goto(station.url);
    await page.getByTestId('empty-state').waitFor();
    devices.upsert({
      id: 'tcp:127.0.0.1:5554',
      connection: 'tcp',
      address: '127.0.0.1:5554',
      mode: 'fastboot',
      state: 'ready',
      product: 'flashline-virtual',
      serial: 'VIRT0001',
      currentSlot: 'a',
      version: '1.2.3',
      rollbackIndex: 4,
    });
    const card = page.getByTestId('device-card');
    await card.waitFor();
    const text = (await card.textContent()) ?? '';
    for (const expected of [
      'flashline-virtual',
      'VIRT0001',
      'TCP',
      '127.0.0.1:5554',
      'Fastboot', // the mode, as the card words it
      '1.2.3',
      '4',
    ]) {
      assert.ok(text.includes(expected), `card shows ${expected}: ${text}`);
    }
    devices.upsert({ ...devices.get('tcp:127.0.0.1:5554')!, state: 'busy', currentSlot: 'b' });
    await page.locator('[data-testid="device-card"] .state-busy').waitFor();
    await page.screenshot({ path: join(artifactsDir, 'station-device.png'), fullPage: true });
    await page.emulateMedia({ colorScheme: 'dark' });
    await page.screenshot({ path: join(artifactsDir, 'station-device-dark.png'), fullPage: true });
    devices.remove('tcp:127.0.0.1:5554');
    await page.getByTestId('empty-state').waitFor();
  });

  test('the indicator shows a lost station, and the list comes back when it returns', async (t) => {
    const live = await liveStation(t);
    const { devices } = live;
    let { station } = live;
    const page = await browser.context.newPage();
    t.after(() => page.close());
    await page.goto(station.url);
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
    const port = Number(new URL(station.origin).port);
    const { token } = station;
    await station.close();
    await page.locator('[data-testid="connection"][data-state="reconnecting"]').waitFor();
    devices.upsert({
      id: 'usb:R1',
      connection: 'usb',
      address: '1-2',
      mode: 'edl',
      state: 'ready',
      serial: 'R1',
    });
    station = await startStation({
      host: '127.0.0.1',
      port,
      token,
      staticDir: await ensureRendererBuilt(() => undefined),
      service: createService({ devices }),
    });
    live.station = station;
    await page.locator('[data-testid="connection"][data-state="connected"]').waitFor();
    // The subscription restarts and a fresh snapshot brings the device added while away.
    await page.getByTestId('device-card').filter({ hasText: 'R1' }).waitFor();
  });
});
