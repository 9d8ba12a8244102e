/**
 * `flashline line PACKAGE`: the headless factory loop. Watches USB, serial ports and the TCP endpoints it is
 * given (polled until they answer, and again after they vanish), and flashes every compatible device that
 * becomes ready — through the same auto-flash mechanism as the station's switch (main/flash/auto-flash.ts):
 * never twice the same passed serial (unless --force), failed units again only with --retry-failed,
 * interrupted jobs of a returning unit resumed. Runs until Ctrl-C, --count units, or --idle-exit seconds.
 * Exit code: 0 when every unit passed, otherwise the most frequent failure code.
 */
import { availableParallelism } from 'node:os';
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { flashlineHome } from '../../common/paths.js';
import { FLASHLINE_VERSION } from '../../common/version.js';
import { adbSource } from '../../devices/adb-endpoints.js';
import {
  DeviceRegistry,
  type DeviceSource,
  serialSource,
  startDiscovery,
  type TcpEndpointSpec,
  tcpSource,
  usbSource,
} from '../../devices/index.js';
import { FlashService } from '../../flash/service.js';
import { readFleetConfig } from '../../fleet/config.js';
import { readSecretFile } from '../../fleet/db.js';
import { openStationFleet } from '../../fleet/station-fleet.js';
import { startFleetLive } from '../../station/fleet-live.js';
import { type LiveFlags, withLiveOptions } from '../live-options.js';
import { collect, parseHostPort, parsePositiveInt, withPackageKeyOptions } from '../options.js';
import { handleStopSignals } from '../stop-signals.js';
import { parseDeviceId } from './flash.js';
import { LineTally } from './line-tally.js';
import { jsonView, type LineView, plainView, ttyView } from './line-view.js';

export const MAX_LINE_CONCURRENCY = 16;
const DEFAULT_CONCURRENCY = Math.min(MAX_LINE_CONCURRENCY, availableParallelism() * 2);

function parseConcurrency(value: string): number {
  const n = parsePositiveInt(value);
  if (n > MAX_LINE_CONCURRENCY)
    throw new InvalidArgumentError(
      `'${value}' is above ${MAX_LINE_CONCURRENCY}, the most a line flashes at once.`,
    );
  return n;
}

function parseSeconds(value: string): number {
  if (!/^\d+(\.\d+)?$/.test(value) || Number(value) <= 0)
    throw new InvalidArgumentError(`'${value}' is not a number of seconds above 0.`);
  return Number(value);
}

export interface LineOptions extends LiveFlags {
  readonly device: readonly string[];
  readonly trust: readonly string[];
  readonly decryptionKey: readonly string[];
  readonly concurrency: number;
  readonly count?: number;
  readonly idleExit?: number;
  readonly force: boolean;
  readonly retryFailed: boolean;
  readonly usb: boolean;
  readonly listSerial: boolean;
  /** How often TCP endpoints and hand-named serial ports are probed (ms). */
  readonly poll: number;
  readonly json: boolean;
}

export function registerLine(program: Command): void {
  withLiveOptions(withPackageKeyOptions(program.command('line')))
    .description(
      'factory line: flash every compatible device that becomes ready, until Ctrl-C, --count or --idle-exit',
    )
    .argument('<package>', 'the signed package (.flp)')
    .option(
      '--device <id>',
      'also watch this endpoint: tcp:HOST:PORT or adb:HOST:PORT (polled until it answers) or serial:PATH; repeatable',
      collect(parseDeviceId),
      [],
    )
    .option(
      '--concurrency <n>',
      `devices flashed at once (default ${DEFAULT_CONCURRENCY}, at most ${MAX_LINE_CONCURRENCY})`,
      parseConcurrency,
      DEFAULT_CONCURRENCY,
    )
    .option('--count <n>', 'stop after this many units have a result', parsePositiveInt)
    .option('--idle-exit <seconds>', 'stop after this long with no device and no job', parseSeconds)
    .option('--force', 'flash units that already passed (or failed) with this package again', false)
    .option('--retry-failed', 'flash a unit that failed with this package again when it comes back', false)
    .option('--no-usb', 'do not watch USB')
    .option('--no-list-serial', 'do not enumerate serial ports')
    .option('--poll <ms>', 'how often named endpoints are probed', parsePositiveInt, 1000)
    .option('--json', 'one JSON object per event line instead of the live table', false)
    .action(async (pkgPath: string, opts: LineOptions) => {
      process.exitCode = await runLine(resolve(pkgPath), opts);
    });
}

function sourcesFor(opts: LineOptions): DeviceSource[] {
  const tcp: TcpEndpointSpec[] = opts.device
    .filter((d) => d.startsWith('tcp:'))
    .map((d) => parseHostPort(d.slice(4)));
  const adb = opts.device.filter((d) => d.startsWith('adb:')).map((d) => parseHostPort(d.slice(4)));
  const serialPaths = opts.device.filter((d) => d.startsWith('serial:')).map((d) => d.slice(7));
  const sources: DeviceSource[] = [];
  if (opts.usb) sources.push(usbSource());
  if (opts.listSerial || serialPaths.length > 0)
    sources.push(serialSource({ paths: serialPaths, list: opts.listSerial, pollIntervalMs: opts.poll }));
  if (tcp.length > 0) sources.push(tcpSource(tcp, { pollIntervalMs: opts.poll }));
  if (adb.length > 0) sources.push(adbSource(adb, { pollIntervalMs: opts.poll }));
  return sources;
}

/** Run the line; resolves to the exit code once it has stopped and every job has ended. */
export async function runLine(
  pkgPath: string,
  opts: LineOptions,
  out: NodeJS.WritableStream = process.stdout,
): Promise<number> {
  const registry = new DeviceRegistry();
  const fleet = await openStationFleet(flashlineHome());
  const service = new FlashService({
    concurrency: opts.concurrency,
    ...(opts.trust.length > 0 ? { trustDirs: opts.trust } : {}),
    decryptionKeyFiles: opts.decryptionKey,
    devices: registry,
    ...fleet?.serviceOptions,
  });
  // Verified (and, when encrypted, its key unwrapped) before any device is looked at: a package this
  // station cannot use ends here with its 2x code.
  const pkg = await service.openPackage(pkgPath);
  fleet?.start(service.reports, service.manager);
  const tally = new LineTally();
  const tty = !opts.json && (out as NodeJS.WriteStream).isTTY === true;
  const view: LineView = opts.json
    ? jsonView(out)
    : tty
      ? ttyView(out as NodeJS.WriteStream, tally)
      : plainView(out);
  view.note(
    `flashing ${pkg.id} ${pkg.version} (${pkg.products.join(', ')}) onto every compatible device that becomes ready`,
  );

  let lastActivity = Date.now();
  let finish: (reason: string) => void = () => undefined;
  const finished = new Promise<string>((r) => {
    finish = r;
  });
  const unsubscribeJobs = service.manager.subscribe((e) => {
    tally.event(e);
    view.job(e);
    lastActivity = Date.now();
    if (e.type === 'end' && opts.count !== undefined && tally.finished >= opts.count) finish('count');
  });
  const unsubscribeDevices = registry.subscribe((e) => {
    if (e.type === 'ready') view.device('ready', e.device);
    else if (e.type === 'changed' && e.device.state === 'gone') view.device('gone', e.device);
    if (e.type !== 'changed' || e.device.state !== 'gone') lastActivity = Date.now();
  });
  // Ref'd on purpose: it keeps the process alive while the line waits for devices, and is cleared at the end.
  const ticker = setInterval(() => {
    if (
      opts.idleExit !== undefined &&
      tally.active === 0 &&
      Date.now() - lastActivity >= opts.idleExit * 1000
    )
      finish('idle');
  }, 250);
  const disposeSignals = handleStopSignals({
    onStop: () => finish('signal'),
    describe: () => `stopping the line: cancelling ${tally.active} job(s) safely`,
  });

  let reason: string;
  let discovery: Awaited<ReturnType<typeof startDiscovery>> | undefined;
  let live: Awaited<ReturnType<typeof startFleetLive>> | undefined;
  try {
    // The live bus, when fleet.json or --mqtt names a broker; notes go to the view (stderr stays quiet).
    live = await startFleetLive({
      config: await readFleetConfig(flashlineHome()),
      mqttUrl: opts.mqtt,
      stationName: opts.stationName,
      role: 'line',
      version: FLASHLINE_VERSION,
      sources: { devices: registry, jobs: service.manager },
      dashboard: false,
      log: (line) => view.note(line),
      readSecretFile,
    });
    discovery = await startDiscovery(registry, sourcesFor(opts));
    for (const p of discovery.problems) view.note(p);
    const stopAutoFlash = await service.startAutoFlash(registry, pkgPath, {
      force: opts.force,
      retryFailed: opts.retryFailed,
      onSkip: (d, why) => {
        tally.skipped(d.id, d.serial, why);
        view.skipped(d, why);
      },
      onStart: (d, jobId, resumed) => {
        tally.started(d.id, d.serial ?? '-', jobId, resumed);
        view.started(d, jobId, resumed);
      },
    });
    reason = await finished;
    stopAutoFlash();
    // Stopped by a signal: jobs end safely and stay resumable (the next line run resumes them).
    if (reason === 'signal') service.manager.stopAll();
    await service.manager.waitAll();
  } finally {
    // Whatever ended the line, nothing of it may keep the process alive.
    clearInterval(ticker);
    discovery?.stop();
    unsubscribeJobs();
    unsubscribeDevices();
    disposeSignals();
    await live?.stop();
    await fleet?.close();
  }
  const codes = Object.fromEntries(tally.codes());
  view.close(
    {
      reason,
      units: tally.finished,
      passed: codes[0] ?? 0,
      failed: tally.finished - (codes[0] ?? 0),
      codes,
      unitsPerHour: tally.unitsPerHour(),
      exitCode: tally.exitCode(),
    },
    tally.summaryLine(),
  );
  return tally.exitCode();
}
