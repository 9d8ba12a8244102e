/**
 * The station's Host and Origin checks against a real browser (Debian's Chromium), as an attacker would use
 * it: a page of another origin that even knows the token cannot upload or open the API WebSocket, and a
 * name that resolves to the station (DNS rebinding, simulated with Chromium's host resolver rules) gets
 * the 421 refusal instead of the UI — unless the station was started with --allow-host for that name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser as PlaywrightBrowser } from 'playwright-core';
import { ensureRendererBuilt } from '../../main/station/renderer-assets.js';
import { createService } from '../../main/station/run-station.js';
import { type Station, startStation } from '../../main/station/server.js';
import { CHROMIUM } from './browser.js';

/** The attacker's page: tries an upload and the API WebSocket with the (leaked) token, reports what happened. */
function attackerPage(station: Station): string {
  const upload = `${station.origin}/upload?token=${station.token}`;
  const api = `${station.origin.replace(/^http/, 'ws')}/api?token=${station.token}`;
  return `<!doctype html><script>
    window.results = {};
    fetch(${JSON.stringify(upload)}, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' },
      body: 'x'.repeat(1000) }).then(() => { window.results.upload = 'sent' }, () => { window.results.upload = 'failed' });
    const ws = new WebSocket(${JSON.stringify(api)});
    ws.onopen = () => { window.results.ws = 'open' };
    ws.onclose = () => { window.results.ws = window.results.ws ?? 'refused' };
  </script>`;
}

describe('station Host/Origin checks in Chromium', () => {
  const home = mkdtempSync(join(tmpdir(), 'flashline-origin-e2e-'));
  const uploadDir = join(home, 'uploads');
  let station: Station;
  let named: Station;
  let foreign: Server;
  let browser: PlaywrightBrowser;

  before(async () => {
    const staticDir = await ensureRendererBuilt(() => undefined);
    station = await startStation({
      host: '127.0.0.1',
      port: 0,
      staticDir,
      service: createService(),
      uploadDir,
    });
    named = await startStation({
      host: '127.0.0.1',
      port: 0,
      staticDir,
      service: createService(),
      uploadDir: join(home, 'uploads-named'),
      allowHosts: ['station-7.line.test'],
    });
    foreign = createServer((_req, res) => {
      res.setHeader('Content-Type', 'text/html');
      res.end(attackerPage(station));
    });
    await new Promise<void>((resolve) => foreign.listen(0, '127.0.0.1', resolve));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      timeout: 60_000,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--no-first-run',
        // DNS rebinding without DNS: these names resolve to the station's loopback address.
        '--host-resolver-rules=MAP rebind.test 127.0.0.1, MAP station-7.line.test 127.0.0.1',
      ],
    });
  });

  after(async () => {
    await browser?.close();
    await new Promise<void>((resolve) => foreign?.close(() => resolve()));
    await named?.close();
    await station?.close();
    rmSync(home, { recursive: true, force: true });
  });

  test('a page of another origin, holding the token, can neither upload nor open the API', async () => {
    const page = await browser.newPage();
    const refused: number[] = [];
    page.on('response', (r) => {
      if (r.url().includes('/upload')) refused.push(r.status());
    });
    await page.goto(`http://127.0.0.1:${(foreign.address() as AddressInfo).port}/`);
    await page.waitForFunction(() => {
      const r = (globalThis as unknown as { results: Record<string, string> }).results;
      return r.upload !== undefined && r.ws !== undefined;
    });
    const results = await page.evaluate(() => (globalThis as unknown as { results: unknown }).results);
    assert.deepEqual(results, { upload: 'sent', ws: 'refused' });
    assert.deepEqual(refused, [403], 'the station answered the upload with 403');
    let stored: string[] = [];
    try {
      stored = readdirSync(uploadDir, { recursive: true, encoding: 'utf8' }).filter((f) =>
        f.endsWith('.flp'),
      );
    } catch {
      // No upload folder at all: nothing was stored.
    }
    assert.deepEqual(stored, [], 'nothing was stored');
    await page.close();
  });

  test('a rebinding name gets 421 with what to do, not the UI; --allow-host NAME serves it', async () => {
    const page = await browser.newPage();
    const port = new URL(station.origin).port;
    const rebound = await page.goto(`http://rebind.test:${port}/?token=${station.token}`);
    assert.equal(rebound?.status(), 421);
    assert.match((await rebound?.text()) ?? '', /answers only to .*--allow-host NAME/);
    const allowed = await page.goto(`http://station-7.line.test:${new URL(named.origin).port}/`);
    assert.equal(allowed?.status(), 200);
    assert.match(await allowed!.text(), /<div id="root"><\/div>/);
    await page.close();
  });
});
