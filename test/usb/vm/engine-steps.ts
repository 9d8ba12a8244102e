/**
 * The flash engine over real USB, inside the VM: a signed demo package flashed to the gadget preflight to
 * postcheck, then again with the gadget unbound mid-download (a cable pull) and re-bound a moment later.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FastbootConnector } from '../../../main/flash/adapters/fastboot.js';
import type { JobEvent } from '../../../main/flash/events.js';
import type { JobReport } from '../../../main/flash/report.js';
import { FlashService } from '../../../main/flash/service.js';
import { createDemoPackage } from '../../../main/package/index.js';
import type { UsbBackend } from '../../../main/transport/usb-types.js';
import { makeVirtualImage } from '../../../virtual-device/image-metadata.js';

const MiB = 1024 * 1024;

/** Slow emulated machine: bounds are generous, but every one is still a bound. */
const VM_ENGINE = {
  timeouts: { commandMs: 60_000, minDownloadBytesPerSecond: 64 * 1024, rebootMs: 90_000, connectMs: 15_000 },
  retry: { attempts: 8, baseDelayMs: 500, maxDelayMs: 4_000 },
  pieceSize: MiB,
  minBatteryPercent: 25,
};

export async function makePackage(dir: string, version: string, rollbackIndex: number): Promise<string> {
  const outPath = join(dir, `usb-${version}.flp`);
  const bootSize = 2 * MiB + 512;
  const systemSize = 4 * MiB;
  await createDemoPackage({
    outPath,
    version,
    rollbackIndex,
    expectedVersion: version,
    images: [
      { partition: 'boot', source: makeVirtualImage({ version, rollbackIndex, size: bootSize }), size: bootSize },
      {
        partition: 'system',
        source: makeVirtualImage({ version, rollbackIndex, size: systemSize, seed: `system-${version}` }),
        size: systemSize,
      },
    ],
  });
  return outPath;
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
    engine: VM_ENGINE,
    connector: new FastbootConnector({ usb: backend, inFlight: 1 }),
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
