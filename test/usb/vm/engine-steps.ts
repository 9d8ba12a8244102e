/**
 * The flash engine over real USB, inside the VM: a signed demo package flashed to the gadget preflight to
 * postcheck, then again with the gadget unbound mid-download (a cable pull) and re-bound a moment later.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDemoPackage } from '../../../main/cli/demo-package.js';
import { FastbootConnector } from '../../../main/flash/adapters/fastboot.js';
import { DEFAULT_ENGINE_OPTIONS } from '../../../main/flash/context.js';
import type { JobEvent } from '../../../main/flash/events.js';
import type { JobReport } from '../../../main/flash/report.js';
import { FlashService } from '../../../main/flash/service.js';
import type { UsbBackend } from '../../../main/transport/usb-types.js';
import { shimBackend } from './usb-shims.js';

const MiB = 1024 * 1024;

/**
 * Slow emulated machine: bounds are generous, but every one is still a bound. Pieces are the engine's own
 * size (as shipped) for the measured flash; the cable-pull steps use 1 MiB pieces so a pull lands mid-image
 * and the resume has pieces to skip.
 */
const VM_ENGINE = {
  timeouts: { commandMs: 60_000, minDownloadBytesPerSecond: 64 * 1024, rebootMs: 90_000, connectMs: 15_000 },
  retry: { attempts: 8, baseDelayMs: 500, maxDelayMs: 4_000 },
  pieceSize: DEFAULT_ENGINE_OPTIONS.pieceSize,
  minBatteryPercent: 25,
};
const CABLE_PULL_PIECE = MiB;

/** The demo package (the demo's own helper) at a version, with a boot image just over 2 MiB. */
export function makePackage(dir: string, version: string, rollbackIndex: number): Promise<string> {
  return makeDemoPackage(join(dir, `usb-${version}.flp`), {
    version,
    rollbackIndex,
    bootSize: 2 * MiB + 512,
    systemSize: 4 * MiB,
  });
}

export interface EngineRun {
  report: JobReport;
  ms: number;
  pulledAt?: number;
}

/**
 * Flash `packagePath` to `deviceId` with the engine. With `pull`, the gadget is unbound once the download has
 * passed `pull.atBytes` and re-bound `pull.offMs` later.
 */
export async function engineFlash(
  home: string,
  backend: UsbBackend,
  deviceId: string,
  packagePath: string,
  pull?: { udcFile: string; udc: string; atBytes: number; offMs: number },
): Promise<EngineRun> {
  const service = new FlashService({
    home,
    concurrency: 1,
    engine: pull ? { ...VM_ENGINE, pieceSize: CABLE_PULL_PIECE } : VM_ENGINE,
    connector: new FastbootConnector({ usb: backend }),
  });
  let pulledAt: number | undefined;
  let replug: Promise<void> | undefined;
  service.manager.subscribe((e: JobEvent) => {
    if (e.type === 'stage') console.log(`engine| stage ${e.stage}`);
    if (!pull || pulledAt !== undefined || e.type !== 'progress' || e.stage !== 'download') return;
    if (e.bytesDone < pull.atBytes) return;
    pulledAt = e.bytesDone;
    console.log(`engine| cable pull at ${e.bytesDone} bytes`);
    replug = (async () => {
      await writeFile(pull.udcFile, '\n');
      await sleep(pull.offMs);
      await writeFile(pull.udcFile, pull.udc);
    })();
  });
  const t0 = performance.now();
  const [id] = await service.flash(packagePath, [deviceId]);
  if (!id) throw new Error('the flash service started no job');
  const report = await service.manager.wait(id);
  await replug;
  return { report, ms: Math.round(performance.now() - t0), ...(pulledAt !== undefined ? { pulledAt } : {}) };
}

type Step = (name: string, fn: () => Promise<Record<string, unknown>>) => Promise<boolean>;

function summary(r: EngineRun): Record<string, unknown> {
  return {
    status: r.report.status,
    statusName: r.report.statusName,
    message: r.report.message,
    versionAfter: r.report.device.versionAfter,
    slotAfter: r.report.device.slotAfter,
    resumes: r.report.resumes,
    downloadMbPerS: Math.round((r.report.rate / 1e6) * 100) / 100,
    ms: r.ms,
    ...(r.pulledAt !== undefined ? { pulledAt: r.pulledAt } : {}),
  };
}

/** engine-flash, engine-cable-pull (transport as shipped, no shim), engine-cable-pull-hotplug. */
export async function engineSteps(
  step: Step,
  backend: UsbBackend,
  where: { serial: string; udcFile: string; udc: string },
): Promise<void> {
  const home = '/tmp/flashline-home';
  const deviceId = `usb:${where.serial}`;
  const pull = { udcFile: where.udcFile, udc: where.udc, atBytes: 3 * MiB, offMs: 1500 };
  const pulled = async (b: UsbBackend, version: string, index: number) => {
    const r = await engineFlash(home, b, deviceId, await makePackage('/tmp', version, index), pull);
    if (r.pulledAt === undefined) throw new Error('the job finished before the cable pull point');
    if (r.report.status !== 0) throw new Error(`job ended ${r.report.statusName}: ${r.report.message}`);
    if (r.report.resumes < 1)
      throw new Error('the job succeeded without a resume although the cable was pulled');
    return summary(r);
  };
  await step('engine-flash', async () => {
    const r = await engineFlash(home, backend, deviceId, await makePackage('/tmp', '2.0.0', 2));
    if (r.report.status !== 0) throw new Error(`job ended ${r.report.statusName}: ${r.report.message}`);
    return summary(r);
  });
  await step('engine-cable-pull', () => pulled(backend, '3.0.0', 3));
  // With udev's disconnect event standing in (usb-shims.ts): the engine's resume over real USB.
  await step('engine-cable-pull-hotplug', () => pulled(shimBackend(backend), '4.0.0', 4));
}
