/**
 * The station UI with N devices updating at 4 Hz: `npm run bench -- parallel-ui [--devices 64] [--seconds 8]
 * [--json]` (also run at the end of `bench parallel`). A station (registry, flash service, `startStation`, as
 * `flashline station` composes them) lists N virtual devices from a child process; Debian's Chromium, driven by
 * playwright-core, shows the Flash, Factory and Devices screens while every device's job reports progress at
 * 4 Hz through the real API (WebSocket subscription, the renderer's own code).
 *
 * The progress is synthetic (bench/_progress-replay.ts: the engine's event shapes, one download per device at
 * 40 MB/s, 4 Hz each): 64 real transfers at 40 MB/s would need the whole 2-core machine, and the frame time
 * would then measure the machine, not the page. `bench parallel` measures the engine with real transfers.
 *
 * Frame time: the main thread's task time per frame from a Chromium performance trace (bench/_frame-trace.ts),
 * p50/p95/max and long tasks, while a rAF loop keeps frames coming. Goal: p95 < 16 ms.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { DeviceRegistry, endpointSource, startDiscovery, tcpEndpoint } from '../main/devices/index.js';
import { FlashService } from '../main/flash/service.js';
import { stationCatalog } from '../main/station/catalog.js';
import { ensureRendererBuilt } from '../main/station/renderer-assets.js';
import { createService } from '../main/station/run-station.js';
import { type Station, startStation } from '../main/station/server.js';
import { startDeviceHost } from './_device-host.js';
import { type FrameTimes, frameTimes, TRACE_CATEGORIES } from './_frame-trace.js';
import { loadNow } from './_load.js';
import { type ProgressReplay, replayProgress } from './_progress-replay.js';
import { option } from './_stats.js';

const MiB = 1024 * 1024;
const CHROMIUM = process.env.FLASHLINE_CHROMIUM ?? '/usr/bin/chromium';
/** USB 2 as the issue paces it. */
const USB2_RATE = 40_000_000;

async function waitFor(ready: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > end) throw new Error(`not ready within ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export interface FrameStats extends FrameTimes {
  readonly screen: string;
  /** Progress events the station sent per second while measuring (all devices together). */
  readonly updatesPerSecond: number;
}

/** Runs in the page: keep a frame coming every display tick for `ms` (rAF loop), so idle frames count too. */
const KEEP_FRAMING = `(ms) => new Promise((resolve) => {
  const end = performance.now() + ms;
  const tick = (t) => (t < end ? requestAnimationFrame(tick) : resolve(null));
  requestAnimationFrame(tick);
})`;

async function measureFrames(
  browser: Browser,
  page: Page,
  screen: string,
  seconds: number,
  emitted: () => number,
): Promise<FrameStats> {
  await page.waitForTimeout(1000); // let the screen settle after navigation
  await browser.startTracing(page, { categories: TRACE_CATEGORIES });
  const e0 = emitted();
  const t0 = performance.now();
  // A string, not a function: tsx compiles functions with helpers (`__name`) the page does not have.
  await page.evaluate(`(${KEEP_FRAMING})(${seconds * 1000})`);
  const elapsed = (performance.now() - t0) / 1000;
  const updatesPerSecond = Math.round((emitted() - e0) / elapsed);
  const trace = await browser.stopTracing();
  // Open it in Chrome DevTools' Performance panel to see where a slow frame went.
  const keep = process.env.FLASHLINE_BENCH_TRACE_DIR;
  if (keep) await writeFile(join(keep, `parallel-ui-${screen}.json`), trace);
  return { screen, ...frameTimes(trace), updatesPerSecond };
}

export async function runUiBench(opts: {
  readonly devices: number;
  readonly seconds?: number;
  readonly json: boolean;
}): Promise<number> {
  const seconds = opts.seconds ?? 8;
  const n = opts.devices;
  const home = await mkdtemp(join(tmpdir(), 'flashline-bench-parallel-ui-'));
  const host = await startDeviceHost({
    count: n,
    rateBytesPerSecond: 0,
    maxDownloadSize: 16 * MiB,
    bootDelayMs: 100,
  });
  const registry = new DeviceRegistry();
  const discovery = await startDiscovery(registry, [
    endpointSource(
      host.addresses.map((a) => {
        const [, h, p] = /^tcp:(.+):(\d+)$/.exec(a) ?? [];
        return tcpEndpoint({ host: h!, port: Number(p) }, 'virtual');
      }),
      { name: 'virtual', pollIntervalMs: 1000 },
    ),
  ]);
  const flash = new FlashService({ home, concurrency: n, devices: registry });
  let replay: ProgressReplay | undefined;
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
  let station: Station | undefined;
  try {
    await waitFor(() => registry.list().filter((d) => d.state === 'ready').length === n, 120_000);
    replay = replayProgress(
      registry.list().map((d) => d.id),
      USB2_RATE,
    );
    station = await startStation({
      host: '127.0.0.1',
      port: 0,
      staticDir: await ensureRendererBuilt((line) => process.stderr.write(`${line}\n`)),
      uploadDir: join(home, 'uploads'),
      uploadLimitBytes: MiB,
      service: createService({
        devices: registry,
        demo: true,
        flash: replay.over(flash),
        catalog: stationCatalog(home, flash),
      }),
    });
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(station.url);
    await page
      .getByTestId('device-count')
      .filter({ hasText: `${n} connected` })
      .waitFor({ timeout: 60_000 });
    const load = loadNow();
    const results: FrameStats[] = [];
    for (const screen of ['flash', 'factory', 'devices'] as const) {
      await page.getByTestId(`nav-${screen}`).click();
      results.push(await measureFrames(browser, page, screen, seconds, replay.emitted));
    }
    const out = { devices: n, load: load.text, loadAfter: loadNow().text, screens: results };
    if (opts.json) process.stdout.write(`${JSON.stringify({ ui: out })}\n`);
    else {
      process.stdout.write(
        `station UI in Chromium, ${n} devices each updating at 4 Hz (load ${out.load} → ${out.loadAfter}):\n`,
      );
      for (const r of results)
        process.stdout.write(
          `  ${r.screen.padEnd(8)} frame time p50 ${r.p50Ms.toFixed(1)} ms, p95 ${r.p95Ms.toFixed(1)} ms (goal < 16), max ${r.maxMs.toFixed(0)} ms, p95 in CPU time ${r.cpuP95Ms.toFixed(1)} ms; ${r.frames} frames, ${r.longTasks} long tasks; ${r.updatesPerSecond} updates/s sent\n`,
        );
    }
    return results.every((r) => r.frames > 0) ? 0 : 1;
  } finally {
    replay?.stop();
    await browser.close().catch(() => undefined);
    discovery.stop();
    await station?.close();
    await host.stop();
    await rm(home, { recursive: true, force: true });
  }
}

export async function run(args: string[]): Promise<number> {
  const devices = Number(option(args, '--devices') ?? '64');
  const seconds = Number(option(args, '--seconds') ?? '8');
  if (!Number.isInteger(devices) || devices < 1 || devices > 128 || !(seconds > 0 && seconds <= 120)) {
    process.stderr.write('usage: npm run bench -- parallel-ui [--devices N] [--seconds S] [--json]\n');
    return 2;
  }
  return runUiBench({ devices, seconds, json: args.includes('--json') });
}
