/** Shared set-up for the flash engine's integration tests: virtual devices over real TCP, a signed package. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DemoRigOptions, makeDemoPackage, startDemoRig } from '../../../main/cli/commands/demo.js';
import type { JobEvent } from '../../../main/flash/events.js';
import type { JobReport } from '../../../main/flash/report.js';
import { FlashService } from '../../../main/flash/service.js';
import type { VirtualDeviceHandle } from '../../../virtual-device/index.js';

export const FAST_ENGINE = {
  timeouts: { commandMs: 5_000, minDownloadBytesPerSecond: 1024 * 1024, rebootMs: 8_000, connectMs: 2_000 },
  retry: { attempts: 6, baseDelayMs: 50, maxDelayMs: 400 },
  pieceSize: 1024 * 1024,
  minBatteryPercent: 25,
};

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const SMALL_PACKAGE = { bootSize: 1024 * 1024 + 512, systemSize: 3 * 1024 * 1024 };

/** Start a rig, flash every device with the engine in this process, stop the rig. */
export async function flashRig(
  home: string,
  options: Omit<DemoRigOptions, 'dir'>,
  service?: (home: string) => FlashService,
): Promise<{ reports: JobReport[]; events: JobEvent[]; devices: DeviceAfter[] }> {
  const rig = await startDemoRig({
    ...options,
    dir: join(home, 'rig'),
    pkg: { ...SMALL_PACKAGE, ...options.pkg },
  });
  try {
    const flash = service?.(home) ?? new FlashService({ home, concurrency: 8, engine: FAST_ENGINE });
    const events: JobEvent[] = [];
    flash.manager.subscribe((e) => events.push(e));
    // A stock phone is one unit with two endpoints: ADB (in Android) and fastboot (in the bootloader).
    const ids = await flash.flash(
      rig.packagePath,
      rig.devices.map((d) => (d.adbAddress ? [d.adbAddress, d.address] : d.address)),
    );
    const reports = await Promise.all(ids.map((id) => flash.manager.wait(id)));
    // Let a device that is rebooting on its own (fallback) settle before looking at it.
    await new Promise((r) => setTimeout(r, 50));
    return { reports, events, devices: rig.devices.map(after) };
  } finally {
    await rig.stop();
  }
}

export interface DeviceAfter {
  readonly serial: string;
  readonly active: string;
  /** At least one slot is bootable: a device is never left bricked. */
  readonly bootable: boolean;
  readonly running: string;
}

export function after(d: VirtualDeviceHandle): DeviceAfter {
  const bc = d.device.bootControl;
  return {
    serial: d.serial,
    active: bc.active,
    bootable: !bc.slots.a.unbootable || !bc.slots.b.unbootable,
    running: d.device.runningVersion,
  };
}

export { makeDemoPackage };
