/**
 * `npm run bench -- parallel [--json] [--rate BYTES_PER_S] [--counts 1,4,16]`: aggregate download
 * throughput of 1, 4 and 16 virtual devices flashed at once, each link paced with the virtual device's
 * `--rate` so the host CPU is not the limit. Printed as a ratio to N × the single-device throughput
 * measured in the same run (1.0 = perfect scaling).
 * The virtual devices run in a separate child process (bench/_device-host.ts) so the ceiling measures
 * Flashline's engine, not 16 simulated devices sharing its event loop and fsyncs; `--devices-in-process`
 * restores the old arrangement for comparison.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeDemoPackage, startDemoRig } from '../main/cli/commands/demo.js';
import type { JobReport } from '../main/flash/report.js';
import { FlashService } from '../main/flash/service.js';
import { startDeviceHost } from './_device-host.js';

const MiB = 1024 * 1024;

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

/**
 * Bytes per second over the union of the jobs' download stages (first start to last end), and the spread
 * of the download starts (time the engine takes to get every job through preflight; it counts against the
 * aggregate, as it would on a factory line).
 */
function aggregate(reports: readonly JobReport[]): { rate: number; startSpreadMs: number } {
  const stages = reports.flatMap((r) => r.stages.filter((s) => s.stage === 'download' && s.endedAt));
  const starts = stages.map((s) => Date.parse(s.startedAt));
  const start = Math.min(...starts);
  const end = Math.max(...stages.map((s) => Date.parse(s.endedAt!)));
  const bytes = stages.reduce((a, s) => a + s.bytes, 0);
  return {
    rate: end > start ? (bytes * 1000) / (end - start) : 0,
    startSpreadMs: Math.max(...starts) - start,
  };
}

const PKG = { bootSize: MiB, systemSize: 3 * MiB } as const;
const DEVICE = { maxDownloadSize: 4 * MiB, bootDelayMs: 100 } as const;

interface Rig {
  readonly packagePath: string;
  readonly addresses: readonly string[];
  stop(): Promise<void>;
}

async function rigInProcess(n: number, rate: number, dir: string): Promise<Rig> {
  const rig = await startDemoRig({
    devices: n,
    dir,
    pkg: PKG,
    device: DEVICE,
    faults: () => ({ rateBytesPerSecond: rate }),
  });
  return { packagePath: rig.packagePath, addresses: rig.devices.map((d) => d.address), stop: rig.stop };
}

async function rigInChild(n: number, rate: number, dir: string): Promise<Rig> {
  await mkdir(dir, { recursive: true });
  const packagePath = await makeDemoPackage(join(dir, 'flashline-demo.flp'), PKG);
  const host = await startDeviceHost({ count: n, rateBytesPerSecond: rate, ...DEVICE });
  return { packagePath, addresses: host.addresses, stop: host.stop };
}

async function group(
  n: number,
  rate: number,
  dir: string,
  inProcess: boolean,
): Promise<{ n: number; ok: number; rate: number; startSpreadMs: number }> {
  const rig = await (inProcess ? rigInProcess : rigInChild)(n, rate, join(dir, `rig-${n}`));
  try {
    const service = new FlashService({ home: join(dir, `home-${n}`), concurrency: n });
    const ids = await service.flash(rig.packagePath, [...rig.addresses]);
    const reports = await Promise.all(ids.map((id) => service.manager.wait(id)));
    return { n, ok: reports.filter((r) => r.status === 0).length, ...aggregate(reports) };
  } finally {
    await rig.stop();
  }
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const inProcess = args.includes('--devices-in-process');
  const rate = Number(arg(args, '--rate') ?? String(MiB));
  const counts = (arg(args, '--counts') ?? '1,4,16').split(',').map(Number);
  if (!(rate > 0) || counts.some((c) => !Number.isInteger(c) || c < 1 || c > 64)) {
    process.stderr.write(
      'usage: npm run bench -- parallel [--json] [--rate BYTES_PER_S] [--counts 1,4,16] [--devices-in-process]\n',
    );
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'flashline-bench-parallel-'));
  try {
    const results = [];
    for (const n of [1, ...counts.filter((c) => c !== 1)]) results.push(await group(n, rate, dir, inProcess));
    const single = results[0]!.rate;
    const rows = results.map((r) => ({
      devices: r.n,
      ok: r.ok,
      aggregateMBps: Number((r.rate / 1e6).toFixed(2)),
      ratioToNxSingle: Number((r.rate / (single * r.n)).toFixed(3)),
      downloadStartSpreadMs: r.startSpreadMs,
    }));
    if (json)
      process.stdout.write(
        `${JSON.stringify({ pacedRateBytesPerSecond: rate, devices: inProcess ? 'in-process' : 'child-process', results: rows })}\n`,
      );
    else {
      process.stdout.write(
        `parallel flashing, each link paced at ${(rate / 1e6).toFixed(2)} MB/s, devices ${inProcess ? 'in this process' : 'in a child process'}\n`,
      );
      for (const r of rows) {
        process.stdout.write(
          `  ${String(r.devices).padStart(2)} device(s): ${r.aggregateMBps.toFixed(2)} MB/s aggregate, ratio to ${r.devices} × single = ${r.ratioToNxSingle.toFixed(3)} (${r.ok}/${r.devices} ok, download starts spread over ${r.downloadStartSpreadMs} ms)\n`,
        );
      }
    }
    return results.every((r) => r.ok === r.n) ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
