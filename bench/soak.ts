/**
 * `npm run soak -- --jobs N --devices D [--seed S] [--json]`: a factory line in fast motion. D ports; on
 * each, fresh units (new serial, random free port) are plugged, flashed by auto-flash (as `flashline line`
 * does) and unplugged, at random times, with random faults: cable pull mid-download, a slot that does not
 * boot, latency, and units pulled mid-job. The flash service runs in this process; the units run in a child
 * (bench/soak-devices.ts) so the figures are Flashline's. Prints jobs/hour, RSS and open file descriptors
 * at 10 %, 50 % and 100 % of the jobs, reports stored vs jobs finished, crashes, and units left without a
 * bootable slot. Exit 0 when the invariants hold (RSS growth ≤ 10 % from 10 % to 100 %, 0 lost reports,
 * 0 crashes, 0 unbootable).
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { makeDemoPackage } from '../main/cli/commands/demo.js';
import { installFaultPolicy } from '../main/common/fault-policy.js';
import { VIRTUAL_PRODUCT_ID } from '../main/common/products.js';
import { DeviceRegistry } from '../main/devices/registry.js';
import type { JobEvent } from '../main/flash/events.js';
import { FlashService } from '../main/flash/service.js';
import type { Faults } from '../virtual-device/index.js';
import { startSoakDeviceHost } from './soak-devices.js';

const KiB = 1024;
const PKG = { bootSize: 64 * KiB, systemSize: 192 * KiB } as const;
const WIRE_BYTES = PKG.bootSize + PKG.systemSize;
const ENGINE = {
  timeouts: { commandMs: 5_000, minDownloadBytesPerSecond: 256 * KiB, rebootMs: 5_000, connectMs: 1_000 },
  retry: { attempts: 3, baseDelayMs: 50, maxDelayMs: 200 },
  pieceSize: 64 * KiB,
  minBatteryPercent: 25,
};

export interface SoakOptions {
  readonly jobs: number;
  readonly devices: number;
  readonly seed?: number;
  /** The manager's bound on finished jobs kept in memory (default: the manager's own). */
  readonly keepFinished?: { readonly count: number; readonly ageMs: number };
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

export interface Sample {
  readonly jobs: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
  /** Open file descriptors of this process (null where /proc/self/fd does not exist). */
  readonly openFds: number | null;
}

export interface SoakResult {
  readonly jobs: number;
  readonly devices: number;
  readonly elapsedMs: number;
  readonly jobsPerHour: number;
  readonly samples: { readonly at10: Sample; readonly at50: Sample; readonly at100: Sample };
  /** (RSS at 100 % − RSS at 10 %) / RSS at 10 %. */
  readonly rssGrowth: number;
  readonly reportsStored: number;
  /** Jobs that ended without their report in the store. */
  readonly lostReports: number;
  /** Unexpected rejections / exceptions in the service process (Flashline's crashes). */
  readonly crashes: number;
  /** The simulated units' host failing (not Flashline; it ends the run early and makes it invalid). */
  readonly simulatorFailures: number;
  readonly unbootable: number;
  readonly pulledMidJob: number;
  readonly journalsLeft: number;
  /** Jobs in the manager's list at the end (bounded, not N). */
  readonly jobsListed: number;
  readonly codes: Readonly<Record<string, number>>;
}

/** A small seeded generator (mulberry32) so a run can be repeated with --seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function sample(jobs: number): Sample {
  (globalThis as { gc?: () => void }).gc?.();
  const m = process.memoryUsage();
  let openFds: number | null = null;
  try {
    openFds = readdirSync('/proc/self/fd').length;
  } catch {}
  return { jobs, rssBytes: m.rss, heapUsedBytes: m.heapUsed, openFds };
}

export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const rand = random(options.seed ?? 1);
  const log = options.log ?? (() => {});
  const dir = mkdtempSync(join(tmpdir(), 'flashline-soak-'));
  let crashes = 0;
  const disposePolicy = installFaultPolicy({
    log: (line) => {
      crashes++;
      log(`CRASH ${line}`);
    },
  });
  const onException = (err: Error) => {
    crashes++;
    log(`CRASH uncaught exception: ${err.message}`);
  };
  process.on('uncaughtException', onException);
  const host = await startSoakDeviceHost();
  let simulatorFailures = 0;
  void host.exited.then((code) => {
    simulatorFailures++;
    log(`SIMULATOR the device host exited (code ${code})`);
  });
  try {
    const packagePath = await makeDemoPackage(join(dir, 'soak.flp'), PKG);
    const home = join(dir, 'home');
    const registry = new DeviceRegistry();
    const service = new FlashService({
      home,
      concurrency: options.devices,
      engine: ENGINE,
      ...(options.keepFinished ? { keepFinished: options.keepFinished } : {}),
    });
    const ends = new Map<string, (e: Extract<JobEvent, { type: 'end' }>) => void>();
    const starts = new Map<string, () => void>();
    const ended: string[] = [];
    const codes: Record<string, number> = {};
    const samples: Partial<Record<string, Sample>> = {};
    const started = Date.now();
    // Every tenth of the run is sampled and logged (a long run stopped early still says how it grew).
    const marks: Record<string, number> = Object.fromEntries(
      Array.from({ length: 10 }, (_, i) => [`at${(i + 1) * 10}`, Math.ceil((options.jobs * (i + 1)) / 10)]),
    );
    service.manager.subscribe((e) => {
      if (e.type === 'stage' && e.stage === 'preflight') starts.get(e.deviceId)?.();
      if (e.type !== 'end') return;
      ended.push(e.jobId);
      codes[e.status] = (codes[e.status] ?? 0) + 1;
      for (const [k, at] of Object.entries(marks)) {
        if (ended.length !== at) continue;
        const taken = sample(at);
        samples[k] = taken;
        log(`sample ${k}: ${JSON.stringify(taken)} after ${Math.round((Date.now() - started) / 1000)} s`);
      }
      if (ended.length % Math.max(1, Math.floor(options.jobs / 20)) === 0)
        log(`${ended.length}/${options.jobs} jobs`);
      ends.get(e.deviceId)?.(e);
    });
    await service.setAutoFlash(registry, packagePath);
    let plugged = 0;
    let unbootable = 0;
    let pulledMidJob = 0;

    const pickFaults = (): { faults: Faults; pullAfterMs?: number } => {
      const faults: { -readonly [K in keyof Faults]: Faults[K] } = {};
      if (rand() < 0.08) faults.dropAtByte = Math.floor(rand() * WIRE_BYTES);
      if (rand() < 0.04) faults.badBoot = ['b'];
      if (rand() < 0.1) faults.latencyMs = 1 + Math.floor(rand() * 10);
      return rand() < 0.03 ? { faults, pullAfterMs: Math.floor(rand() * 400) } : { faults };
    };

    /** One port of the line: plug a unit, let auto-flash run its job, unplug it, repeat. */
    const port = async (index: number) => {
      for (let unit = 0; plugged < options.jobs; unit++) {
        plugged++;
        await sleep(Math.floor(rand() * 50));
        const serial = `SOAK${String(index).padStart(2, '0')}-${unit}`;
        const { faults, pullAfterMs } = pickFaults();
        const address = await host.plug(serial, faults);
        const jobStarted = new Promise<void>((r) => starts.set(address, r));
        const jobEnded = new Promise<void>((r) => ends.set(address, () => r()));
        registry.upsert({
          id: address,
          connection: 'tcp',
          address: address.slice(4),
          mode: 'fastboot',
          // Identified: what the registry shows once a unit is ready to flash (its 'ready' event starts the job).
          state: 'ready',
          product: VIRTUAL_PRODUCT_ID,
          serial,
        });
        const began = await Promise.race([jobStarted.then(() => true), sleep(30_000).then(() => false)]);
        if (!began) log(`unit ${serial}: no job started within 30 s`);
        let pulled: Promise<unknown> | undefined;
        if (began && pullAfterMs !== undefined) {
          await Promise.race([jobEnded, sleep(pullAfterMs)]);
          pulledMidJob++;
          pulled = host.unplug(address);
          // Awaited below, after the job ends; until then a rejection must not count as unhandled.
          pulled.catch(() => undefined);
        }
        if (began) await jobEnded;
        registry.remove(address);
        const left = await (pulled ?? host.unplug(address));
        if (!(left as { bootable: boolean }).bootable) {
          unbootable++;
          log(`unit ${serial} left without a bootable slot`);
        }
        starts.delete(address);
        ends.delete(address);
      }
    };
    // A failing simulator ends the run (reported, and the run is invalid) rather than throwing.
    const guarded = (i: number) =>
      port(i).catch((err: unknown) => {
        simulatorFailures++;
        plugged = options.jobs;
        log(`SIMULATOR port ${i}: ${err instanceof Error ? err.message : String(err)}`);
      });
    await Promise.all(Array.from({ length: options.devices }, (_, i) => guarded(i)));
    const elapsedMs = Date.now() - started;
    await service.setAutoFlash(registry, null);
    let lost = 0;
    for (const id of ended) if (!(await service.reports.has(id))) lost++;
    const at10 = samples.at10 ?? sample(0);
    const at100 = samples.at100 ?? sample(ended.length);
    let journalsLeft = 0;
    try {
      journalsLeft = readdirSync(join(home, 'journal')).length;
    } catch {}
    return {
      jobs: ended.length,
      devices: options.devices,
      elapsedMs,
      jobsPerHour: Math.round((ended.length * 3_600_000) / Math.max(1, elapsedMs)),
      samples: { at10, at50: samples.at50 ?? at10, at100 },
      rssGrowth: (at100.rssBytes - at10.rssBytes) / at10.rssBytes,
      reportsStored: await service.reports.count(),
      lostReports: lost,
      crashes,
      simulatorFailures,
      unbootable,
      pulledMidJob,
      journalsLeft,
      jobsListed: service.manager.list().length,
      codes,
    };
  } finally {
    process.off('uncaughtException', onException);
    disposePolicy();
    await host.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function arg(args: readonly string[], name: string, fallback: number): number {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}

const MB = (n: number) => `${(n / 1e6).toFixed(1)} MB`;

async function main(args: readonly string[]): Promise<number> {
  const jobs = arg(args, '--jobs', 1_000);
  const devices = arg(args, '--devices', 16);
  const seed = arg(args, '--seed', 1);
  if (!Number.isInteger(jobs) || jobs < 10 || !Number.isInteger(devices) || devices < 1 || devices > 64) {
    process.stderr.write('usage: npm run soak -- --jobs N (≥ 10) --devices D (1-64) [--seed S] [--json]\n');
    return 2;
  }
  const json = args.includes('--json');
  const r = await runSoak({
    jobs,
    devices,
    seed,
    log: (line) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`),
  });
  const ok =
    r.rssGrowth <= 0.1 &&
    r.lostReports === 0 &&
    r.crashes === 0 &&
    r.unbootable === 0 &&
    r.simulatorFailures === 0;
  if (json) process.stdout.write(`${JSON.stringify({ ...r, ok })}\n`);
  else {
    const s = (x: Sample) =>
      `RSS ${MB(x.rssBytes)}, heap ${MB(x.heapUsedBytes)}, open fds ${x.openFds ?? 'n/a'}`;
    process.stdout.write(
      `${[
        `soak: ${r.jobs} jobs on ${r.devices} ports in ${(r.elapsedMs / 1000).toFixed(0)} s = ${r.jobsPerHour} jobs/hour`,
        `  at 10 %  (${r.samples.at10.jobs} jobs): ${s(r.samples.at10)}`,
        `  at 50 %  (${r.samples.at50.jobs} jobs): ${s(r.samples.at50)}`,
        `  at 100 % (${r.samples.at100.jobs} jobs): ${s(r.samples.at100)}`,
        `  RSS growth 10 % -> 100 %: ${(r.rssGrowth * 100).toFixed(1)} % (goal ≤ 10 %)`,
        `  reports stored ${r.reportsStored} / jobs finished ${r.jobs}; lost ${r.lostReports}; journals left ${r.journalsLeft}; jobs listed ${r.jobsListed}`,
        `  crashes ${r.crashes}; units without a bootable slot ${r.unbootable}; pulled mid-job ${r.pulledMidJob}; simulator failures ${r.simulatorFailures}`,
        `  status codes: ${Object.entries(r.codes)
          .map(([c, n]) => `${c}×${n}`)
          .join(' ')}`,
        `  ${ok ? 'OK' : 'FAILED'}`,
      ].join('\n')}\n`,
    );
  }
  return ok ? 0 : 1;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) process.exitCode = await main(process.argv.slice(2));
