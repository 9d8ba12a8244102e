/**
 * `npm run bench -- parallel [--devices 64] [--rate BYTES_PER_S] [--size-mib 32] [--profile sink|reference] [--json]
 * [--no-ui]`: one engine (`FlashService`, in this process) flashing N virtual devices at once, each link paced
 * like USB 2 (40 MB/s by default). The devices run in a child process (bench/_device-host.ts) so the engine's
 * CPU and RSS are its own. Printed in one run:
 * - the single-device rate and N × single;
 * - the verification ceiling: N concurrent `openImage` drains of the same package in this process, no devices
 *   (the rate at which the host can produce verified bytes — the engine cannot send faster);
 * - the aggregate of N devices (bytes over the union of the download stages) as a ratio to
 *   min(N × single, ceiling) (goal ≥ 0.9), the engine's CPU seconds per device-GiB and its peak RSS;
 * - then the station UI with N devices updating at 4 Hz (bench/parallel-ui.ts) unless `--no-ui`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDemoPackage } from '../main/cli/demo-package.js';
import { openFlashPackage } from '../main/flash/adapters/package.js';
import type { JobReport } from '../main/flash/report.js';
import { FlashService } from '../main/flash/service.js';
import { startDeviceHost } from './_device-host.js';
import { type LoadSample, loadNow, schedSeconds } from './_load.js';
import { option } from './_stats.js';
import { runUiBench } from './parallel-ui.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const DEVICE = { maxDownloadSize: 16 * MiB, bootDelayMs: 100 } as const;

/** Bytes per second over the union of the jobs' download stages, and how far apart the downloads started. */
function aggregate(reports: readonly JobReport[]): { rate: number; bytes: number; startSpreadMs: number } {
  const stages = reports.flatMap((r) => r.stages.filter((s) => s.stage === 'download' && s.endedAt));
  const starts = stages.map((s) => Date.parse(s.startedAt));
  const start = Math.min(...starts);
  const end = Math.max(...stages.map((s) => Date.parse(s.endedAt!)));
  const bytes = stages.reduce((a, s) => a + s.bytes, 0);
  return {
    rate: end > start ? (bytes * 1000) / (end - start) : 0,
    bytes,
    startSpreadMs: Math.max(...starts) - start,
  };
}

/** The host's verified-byte rate: `streams` concurrent drains of every image of the package. */
async function verificationCeiling(packagePath: string, streams: number): Promise<number> {
  const { pkg } = await openFlashPackage(packagePath);
  const drain = async () => {
    const signal = new AbortController().signal;
    let n = 0;
    for (const img of pkg.images)
      for await (const b of pkg.openImage(img.partition, signal)) n += b.byteLength;
    return n;
  };
  await drain(); // warm the page cache
  const t0 = performance.now();
  const bytes = (await Promise.all(Array.from({ length: streams }, drain))).reduce((a, b) => a + b, 0);
  return (bytes * 1000) / (performance.now() - t0);
}

interface GroupResult {
  readonly n: number;
  readonly ok: number;
  readonly rate: number;
  readonly bytes: number;
  readonly startSpreadMs: number;
  /** The engine process's CPU (user + system) during the group, seconds. */
  readonly cpuSeconds: number;
  /** The process's peak RSS so far (groups run smallest first, so it is this group's). */
  readonly peakRssMiB: number;
  /** CPU seconds of the device process during the group. */
  readonly deviceCpuSeconds: number;
  /** Wall seconds from the first job's start to the last job's end. */
  readonly wallSeconds: number;
  /** Seconds the engine's main thread waited for a CPU (run queue) during the group. */
  readonly engineWaitSeconds: number;
}

async function flashGroup(
  n: number,
  packagePath: string,
  opts: { rate: number; profile: string | undefined; dir: string },
): Promise<GroupResult> {
  const host = await startDeviceHost({
    count: n,
    rateBytesPerSecond: opts.rate,
    ...DEVICE,
    ...(opts.profile ? { profile: opts.profile } : {}),
  });
  try {
    const service = new FlashService({ home: join(opts.dir, `home-${n}`), concurrency: n });
    const deviceCpu0 = host.cpuSeconds();
    const sched0 = schedSeconds();
    const t0 = performance.now();
    const cpu0 = process.cpuUsage();
    const ids = await service.flash(packagePath, [...host.addresses]);
    const reports = await Promise.all(ids.map((id) => service.manager.wait(id)));
    const cpu = process.cpuUsage(cpu0);
    const wallSeconds = (performance.now() - t0) / 1000;
    const deviceCpuSeconds = host.cpuSeconds() - deviceCpu0;
    const engineWaitSeconds = schedSeconds().waiting - sched0.waiting;
    const failed = reports.filter((r) => r.status !== 0);
    if (failed.length > 0)
      process.stderr.write(
        `  ${failed.length} job(s) failed, first: ${failed[0]!.status} ${failed[0]!.message}\n`,
      );
    return {
      n,
      ok: reports.length - failed.length,
      ...aggregate(reports),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      // maxRSS (KiB) is the process's peak: the groups run 1 device first, then N, the ceiling after both.
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      deviceCpuSeconds,
      wallSeconds,
      engineWaitSeconds,
    };
  } finally {
    await host.stop();
  }
}

const USAGE =
  'usage: npm run bench -- parallel [--devices N] [--rate BYTES_PER_S] [--size-mib N] [--profile sink|reference] [--json] [--no-ui]\n';

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const devices = Number(option(args, '--devices') ?? '64');
  const rate = Number(option(args, '--rate') ?? '40000000');
  const sizeMiB = Number(option(args, '--size-mib') ?? '32');
  // The sink discards what it receives, so the devices' own writes and hashes are not the limit.
  const profile = option(args, '--profile') ?? 'sink';
  if (
    !(rate > 0) ||
    !Number.isInteger(devices) ||
    devices < 1 ||
    devices > 128 ||
    !(sizeMiB >= 1 && sizeMiB <= 60)
  ) {
    process.stderr.write(USAGE);
    return 2;
  }
  const loadBefore: LoadSample = loadNow();
  const dir = mkdtempSync(join(tmpdir(), 'flashline-bench-parallel-'));
  try {
    const packagePath = await makeDemoPackage(join(dir, 'flashline-demo.flp'), {
      bootSize: MiB,
      systemSize: sizeMiB * MiB,
    });
    const ctx = { rate, profile, dir };
    const single = await flashGroup(1, packagePath, ctx);
    const many = await flashGroup(devices, packagePath, ctx);
    // Last, so its buffers do not count in the engine's peak RSS.
    const ceiling = await verificationCeiling(packagePath, devices);
    const bound = Math.min(devices * single.rate, ceiling);
    const result = {
      devices,
      pacedRateBytesPerSecond: rate,
      profile,
      imageMiB: sizeMiB + 1,
      singleMBps: round(single.rate / 1e6),
      nTimesSingleMBps: round((devices * single.rate) / 1e6),
      verificationCeilingMBps: round(ceiling / 1e6),
      aggregateMBps: round(many.rate / 1e6),
      ratioToBound: round(many.rate / bound, 3),
      boundIs: devices * single.rate <= ceiling ? 'N x single' : 'verification ceiling',
      ok: many.ok,
      downloadStartSpreadMs: many.startSpreadMs,
      engineCpuSecondsPerDeviceGiB: round(many.cpuSeconds / (many.bytes / GiB), 3),
      engineCpuSeconds: round(many.cpuSeconds),
      deviceCpuSeconds: round(many.deviceCpuSeconds),
      wallSeconds: round(many.wallSeconds),
      engineMainThreadWaitSeconds: round(many.engineWaitSeconds),
      enginePeakRssMiB: round(many.peakRssMiB, 0),
      singlePeakRssMiB: round(single.peakRssMiB, 0),
      loadBefore,
      loadAfter: loadNow(),
    };
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else printEngine(result);
    const ui = args.includes('--no-ui') ? 0 : await runUiBench({ devices, json });
    return many.ok === devices && ui === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function round(x: number, digits = 2): number {
  return Number(x.toFixed(digits));
}

function printEngine(r: {
  devices: number;
  pacedRateBytesPerSecond: number;
  profile: string;
  imageMiB: number;
  singleMBps: number;
  nTimesSingleMBps: number;
  verificationCeilingMBps: number;
  aggregateMBps: number;
  ratioToBound: number;
  boundIs: string;
  ok: number;
  downloadStartSpreadMs: number;
  engineCpuSecondsPerDeviceGiB: number;
  engineCpuSeconds: number;
  deviceCpuSeconds: number;
  wallSeconds: number;
  engineMainThreadWaitSeconds: number;
  enginePeakRssMiB: number;
  singlePeakRssMiB: number;
  loadBefore: LoadSample;
  loadAfter: LoadSample;
}): void {
  const w = (s: string) => process.stdout.write(`${s}\n`);
  w(
    `parallel: ${r.devices} '${r.profile}' devices in a child process, each link paced at ${(r.pacedRateBytesPerSecond / 1e6).toFixed(0)} MB/s, ${r.imageMiB} MiB per device`,
  );
  w(`  load before ${r.loadBefore.text}, after ${r.loadAfter.text}`);
  w(`  single device            ${r.singleMBps.toFixed(2)} MB/s (peak RSS ${r.singlePeakRssMiB} MiB)`);
  w(`  N x single               ${r.nTimesSingleMBps.toFixed(2)} MB/s`);
  w(
    `  verification ceiling     ${r.verificationCeilingMBps.toFixed(2)} MB/s (${r.devices} concurrent openImage drains)`,
  );
  w(
    `  ${String(r.devices).padStart(2)} devices aggregate     ${r.aggregateMBps.toFixed(2)} MB/s — ratio to min(N x single, ceiling) = ${r.ratioToBound.toFixed(3)} (bound: ${r.boundIs}; goal >= 0.9)`,
  );
  w(
    `  engine CPU               ${r.engineCpuSecondsPerDeviceGiB.toFixed(3)} s per device-GiB (${r.engineCpuSeconds} s in all); peak RSS ${r.enginePeakRssMiB} MiB`,
  );
  w(
    `  CPU over the ${r.wallSeconds} s run: engine ${r.engineCpuSeconds} s, devices ${r.deviceCpuSeconds} s (${(((r.engineCpuSeconds + r.deviceCpuSeconds) / r.wallSeconds) * 100).toFixed(0)}% of one core; ${cpus().length} cores, shared); the engine's main thread waited ${r.engineMainThreadWaitSeconds} s for a CPU`,
  );
  w(`  ${r.ok}/${r.devices} ok; download starts spread over ${r.downloadStartSpreadMs} ms`);
}
