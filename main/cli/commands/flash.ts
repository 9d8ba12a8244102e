/**
 * `flashline flash P.flp --device ID [--device ID …] [--trust DIR] [--concurrency N] [--json]`
 * Exit code = the job's status code; with several devices, the first non-zero one (in --device order),
 * printed after a summary table.
 */
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import { type Command, InvalidArgumentError } from 'commander';
import { flashlineHome } from '../../common/paths.js';
import { IDENTIFY_TIMEOUT_MS } from '../../devices/identify.js';
import { type FlashTarget, groupBySerial, identifyIds } from '../../devices/named-endpoints.js';
import { JOB_CODES } from '../../flash/codes.js';
import { STOPPED_RESUMABLE } from '../../flash/context.js';
import type { JobEvent } from '../../flash/events.js';
import type { JobReport } from '../../flash/report.js';
import { FlashService } from '../../flash/service.js';
import { openStationFleet } from '../../fleet/station-fleet.js';
import { collect, parsePositiveInt, withPackageKeyOptions } from '../options.js';
import { handleStopSignals } from '../stop-signals.js';

export function parseDeviceId(value: string): string {
  if (value.startsWith('adb:')) {
    const port = /^adb:(\[[^\]\s]+\]|[^:\s[\]]+):(\d{1,5})$/.exec(value)?.[2];
    if (port === undefined || Number(port) < 1 || Number(port) > 65535) {
      throw new InvalidArgumentError(
        `'${value}' is not an ADB endpoint; use adb:HOST:PORT, for example adb:192.168.1.20:5555 (the phone's "Wireless debugging" address, or 'adb tcpip 5555').`,
      );
    }
    return value;
  }
  if (!/^(tcp:[^\s]+:\d{1,5}|usb:[^\s]+|serial:[^\s]+)$/.test(value)) {
    throw new InvalidArgumentError(
      `'${value}' is not a device id; use tcp:HOST:PORT (fastboot over TCP), adb:HOST:PORT (ADB over TCP), usb:SERIAL or serial:PATH (see 'flashline devices').`,
    );
  }
  return value;
}

interface FlashOptions {
  device: string[];
  trust: string[];
  decryptionKey: string[];
  concurrency: number;
  json: boolean;
}

export function registerFlash(program: Command): void {
  withPackageKeyOptions(program.command('flash'))
    .description('flash a signed package onto one or more devices (exit code = status code)')
    .argument('<package>', 'the signed package (.flp)')
    .option(
      '--device <id>',
      'device id (tcp:HOST:PORT, adb:HOST:PORT, usb:SERIAL, serial:PATH); repeatable — ids that answer with the same serial are one device',
      collect(parseDeviceId),
      [],
    )
    .option('--concurrency <n>', 'devices flashed at once', parsePositiveInt, 4)
    .option('--json', 'one JSON object per event line instead of progress bars', false)
    .action(async (pkgPath: string, opts: FlashOptions, cmd: Command) => {
      if (opts.device.length === 0)
        cmd.error("error: required option '--device <id>' not specified", { exitCode: 2 });
      process.exitCode = await runFlash(resolve(pkgPath), opts);
    });
}

export interface FlashRunOptions {
  readonly device: readonly string[];
  readonly trust?: readonly string[];
  readonly decryptionKey?: readonly string[];
  readonly concurrency: number;
  readonly json: boolean;
  readonly service?: FlashService;
  readonly out?: NodeJS.WritableStream;
}

/** Flash and render; resolves to the exit code. Also used by `flashline demo --no-ui`. */
export async function runFlash(pkgPath: string, opts: FlashRunOptions): Promise<number> {
  const out = opts.out ?? process.stdout;
  // A station of a fleet claims each unit first and ships the reports (tried again by the next run).
  const fleet = opts.service ? undefined : await openStationFleet(flashlineHome());
  const service =
    opts.service ??
    new FlashService({
      concurrency: opts.concurrency,
      ...(opts.trust && opts.trust.length > 0 ? { trustDirs: opts.trust } : {}),
      ...(opts.decryptionKey ? { decryptionKeyFiles: opts.decryptionKey } : {}),
      ...fleet?.serviceOptions,
    });
  fleet?.start(service.reports, service.manager);
  // Ctrl-C / SIGTERM: every job stops safely and stays resumable; a second signal exits at once.
  let stopRequested = false;
  const stopping = new AbortController();
  const disposeSignals = handleStopSignals({
    onStop: () => {
      stopRequested = true;
      stopping.abort();
      service.manager.stopAll();
    },
    describe: () =>
      `stopping ${opts.device.length} job(s) safely (each device stays on its working slot; the jobs stay resumable)`,
    leftBehind: () => resumeHint(opts.device.length),
  });
  try {
    const pkg = await service.openPackage(pkgPath);
    if (stopRequested) return JOB_CODES.cancelled;
    const units = await unitsOf(opts.device, stopping.signal, opts.json ? undefined : out);
    if (stopRequested) return JOB_CODES.cancelled;
    const render = opts.json
      ? jsonRenderer(out)
      : (out as NodeJS.WriteStream).isTTY
        ? barRenderer(units.targets.map(jobDeviceId))
        : lineRenderer(out);
    const unsubscribe = service.manager.subscribe(render.event);
    let reports: JobReport[];
    try {
      if (!opts.json)
        out.write(`Flashing ${pkg.id} ${pkg.version} onto ${units.targets.length} device(s)…\n`);
      const ids = await service.flash(pkgPath, units.targets);
      if (stopRequested) service.manager.stopAll();
      reports = await Promise.all(ids.map((id) => service.manager.wait(id)));
    } finally {
      render.stop();
      unsubscribe();
    }
    if (!opts.json) out.write(resultText(reports));
    return reports.find((r) => r.status !== 0)?.status ?? 0;
  } finally {
    disposeSignals();
    await fleet?.close();
  }
}

interface Units {
  readonly targets: readonly FlashTarget[];
}

const jobDeviceId = (t: FlashTarget): string => (typeof t === 'string' ? t : (t[0] ?? ''));

/**
 * With several ids, identify them first and group those that answer with the same serial: one device, one
 * job. A single id is flashed as named (nothing to group).
 */
async function unitsOf(
  ids: readonly string[],
  signal: AbortSignal,
  out: NodeJS.WritableStream | undefined,
): Promise<Units> {
  if (ids.length < 2) return { targets: [...ids] };
  const infos = await identifyIds(ids, IDENTIFY_TIMEOUT_MS, { signal });
  const { targets, joined } = groupBySerial(infos);
  for (const line of joined) out?.write(`${line}\n`);
  for (const t of targets) {
    if (typeof t === 'string') continue;
    const serial = infos.find((i) => t.includes(i.id) && i.serial)?.serial;
    out?.write(`One device (serial ${serial ?? '?'}) through ${t.join(' and ')}: one job.\n`);
  }
  return { targets };
}

/** The summary table, then the jobs a stop left resumable and how to resume them. */
function resultText(reports: readonly JobReport[]): string {
  const resumable = reports.filter((r) => r.message === STOPPED_RESUMABLE);
  const lines = resumable.map((r) => `Left resumable: job ${r.jobId} on ${r.deviceId}.\n`);
  if (resumable.length > 0) lines.push(`${resumeHint(resumable.length)}\n`);
  return summaryTable(reports) + lines.join('');
}

function resumeHint(jobs: number): string {
  return `Run the same command again to resume ${jobs === 1 ? 'the job' : 'the jobs'} where ${jobs === 1 ? 'it' : 'they'} stopped.`;
}

interface Renderer {
  event(e: JobEvent): void;
  stop(): void;
}

function jsonRenderer(out: NodeJS.WritableStream): Renderer {
  return {
    event: (e) => {
      // The full report is in the history; the end line carries its summary only.
      const line = e.type === 'end' ? { ...e, report: undefined, reportSummary: summary(e.report) } : e;
      out.write(`${JSON.stringify(line)}\n`);
    },
    stop: () => undefined,
  };
}

function summary(r: JobReport) {
  return {
    serial: r.device.serial,
    status: r.status,
    statusName: r.statusName,
    bytesWritten: r.bytesWritten,
    rate: r.rate,
  };
}

const mbps = (rate: number) => (rate / 1e6).toFixed(1);

function lineRenderer(out: NodeJS.WritableStream): Renderer {
  return {
    event: (e) => {
      if (e.type === 'stage') out.write(`${e.deviceId}: ${e.stage}\n`);
      else if (e.type === 'message') out.write(`${e.deviceId}: ${e.text}\n`);
      else if (e.type === 'end') {
        out.write(
          `${e.deviceId}: ${e.status === 0 ? 'done' : `failed (${e.status} ${e.report.statusName}): ${e.report.message}`}\n`,
        );
        if (e.error) out.write(`${e.deviceId}: what to do: ${e.error.remedy}\n`);
      }
    },
    stop: () => undefined,
  };
}

function barRenderer(devices: readonly string[]): Renderer {
  const multi = new cliProgress.MultiBar(
    {
      format: ' {device} |{bar}| {stage} {percentage}% {speed} MB/s ETA {etaText}',
      hideCursor: true,
      clearOnComplete: false,
      stopOnComplete: false,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...devices.map((d) => d.length));
  const bars = new Map<string, cliProgress.SingleBar>();
  const bar = (deviceId: string) => {
    let b = bars.get(deviceId);
    if (!b) {
      b = multi.create(1, 0, { device: deviceId.padEnd(width), stage: 'queued', speed: '0.0', etaText: '-' });
      bars.set(deviceId, b);
    }
    return b;
  };
  for (const d of devices) bar(d);
  return {
    event: (e) => {
      if (e.type === 'progress') {
        const b = bar(e.deviceId);
        b.setTotal(Math.max(1, e.bytesTotal));
        b.update(e.bytesTotal === 0 ? 1 : e.bytesDone, {
          stage: e.stage,
          speed: mbps(e.rate),
          etaText: e.eta === null ? '-' : `${e.eta}s`,
        });
      } else if (e.type === 'end') {
        bar(e.deviceId).update({ stage: e.status === 0 ? 'done' : `failed ${e.status}`, etaText: '-' });
      }
    },
    stop: () => multi.stop(),
  };
}

export function summaryTable(reports: readonly JobReport[]): string {
  const rows = reports.map((r) => [
    r.deviceId,
    r.device.serial ?? '-',
    String(r.status),
    r.statusName,
    r.rate > 0 ? `${mbps(r.rate)} MB/s` : '-',
    r.status === 0
      ? `now ${r.device.versionAfter ?? '?'} on slot ${r.device.slotAfter ?? '?'}`
      : `${r.message} — ${r.remedy}`,
  ]);
  const head = ['device', 'serial', 'code', 'status', 'rate', 'result'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i < 5 ? r[i]!.length : 0))));
  const fmt = (cells: string[]) => cells.map((c, i) => (i < 5 ? c.padEnd(widths[i]!) : c)).join('  ');
  return `\n${[fmt(head), ...rows.map(fmt)].join('\n')}\n`;
}
