/**
 * The virtual device as a real USB gadget: `node serve.mjs '<json options>'` (inside the USB test VM, as root).
 * Profile `reference` (default): builds the configfs gadget, writes the FunctionFS descriptors, binds to the
 * UDC and serves fastboot until killed. Profile `stock-android`: a phone showing ADB in Android and fastboot
 * in the bootloader (phone-gadget.ts). SIGTERM unbinds and exits. Life cycle as in ../runner.ts: a reboot or power cut detaches from the bus, the device boots, the
 * gadget re-attaches. An unbind done by someone else (a test's cable pull) just ends the session; the next
 * one starts when the host enables the function again.
 *
 * Reports on stdout, one JSON object per line: {"gadget":"ready"|"session-end"|"error", ...}.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { VirtualDevice } from '../device.js';
import type { DeviceProfile } from '../profiles.js';
import { ConfigfsGadget, type GadgetSpec } from './configfs.js';
import { fastbootDescriptors, functionStrings } from './descriptors.js';
import { EDL_GADGET, serveEdlGadget } from './edl-gadget.js';
import { serveFastbootOverUsb, type UsbSessionStats } from './fastboot-function.js';
import { createFunctionGadget, report, unbindOnSigterm, waitDetached } from './gadget-function.js';
import { servePhoneGadget } from './phone-gadget.js';

export interface UsbGadgetOptions {
  readonly serial: string;
  readonly product: string;
  readonly vendorId: number;
  readonly productId: number;
  readonly udc?: string;
  readonly stateDir?: string;
  readonly maxDownloadSize?: number;
  /**
   * `reference` (default): fastboot only; `stock-android`: ADB in Android, fastboot in the bootloader;
   * `qualcomm-edl`: a bricked Qualcomm device in EDL, `05c6:9008` (edl-gadget.ts).
   */
  readonly profile?: DeviceProfile | 'qualcomm-edl';
  /** configfs gadget name and FunctionFS instance of the fastboot gadget (default `flashline` / `fastboot`). */
  readonly gadgetName?: string;
  /** qualcomm-edl only: its storage type and Sahara version. */
  readonly storage?: 'emmc' | 'ufs';
  readonly saharaVersion?: 2 | 3;
}

export const DEFAULT_GADGET = {
  // Linux Foundation "Multifunction Composite Gadget": a VID:PID no real phone uses, so nothing else claims it.
  vendorId: 0x1d6b,
  productId: 0x0104,
  serial: 'FLUSB0001',
  product: 'flashline-virtual',
} as const;

export async function serveUsbGadget(opts: UsbGadgetOptions): Promise<never> {
  if (opts.profile === 'qualcomm-edl') return serveEdlFromOptions(opts);
  const stateDir = opts.stateDir ?? (await mkdtemp(join(tmpdir(), 'flashline-usb-dev-')));
  const device = new VirtualDevice({
    profile: opts.profile ?? 'reference',
    stateDir,
    product: opts.product,
    serial: opts.serial,
    hardwareRevision: 'usb-gadget',
    maxDownloadSize: opts.maxDownloadSize ?? 64 * 1024 * 1024,
    maxRetries: 3,
    bootloaderVersion: 'flashline-usb-0.1',
    batteryLevel: 90,
    factoryVersion: '1.0.0',
    faults: {},
  });
  await device.exclusive(() => device.powerOn('os'));
  const udc = opts.udc ?? (await ConfigfsGadget.firstUdc());
  if (opts.profile === 'stock-android') return servePhoneGadget(device, { ...opts, udc, stateDir });

  const spec: GadgetSpec = {
    name: opts.gadgetName ?? 'flashline',
    vendorId: opts.vendorId,
    productId: opts.productId,
    serial: opts.serial,
    manufacturer: 'Flashline',
    product: opts.product,
    ffsInstance: opts.gadgetName ?? 'fastboot',
    ffsMount: `/dev/ffs-${opts.gadgetName ?? 'fastboot'}`,
  };
  const { gadget, ffs } = await createFunctionGadget(
    spec,
    fastbootDescriptors(),
    functionStrings(['fastboot']),
  );
  await gadget.bind(udc);
  report({ gadget: 'ready', udc, serial: opts.serial, stateDir });

  const restart = async (boot: () => Promise<void>): Promise<void> => {
    await gadget.unbind().catch(() => {});
    await device.exclusive(boot);
    await gadget.bind(udc);
  };
  let powerCut = false;
  device.on('power-cut', () => {
    powerCut = true;
  });

  for (;;) {
    await ffs.waitEnabled(24 * 3600_000);
    const stats: UsbSessionStats = { commands: 0, bytesDownloaded: 0 };
    const end = await serveFastbootOverUsb(ffs, device, stats);
    report({ gadget: 'session-end', ...end, ...stats });
    if (powerCut) {
      powerCut = false;
      await restart(() => device.powerOn('os'));
    } else if (end.reason === 'reboot') {
      await restart(() => device.reboot(end.into));
      await waitDetached(ffs);
    } else if (end.reason === 'cable-pull') {
      await waitDetached(ffs);
    } else {
      // Timeout or protocol error: re-attach, as a bootloader resets its USB stack, so the host starts clean.
      await restart(async () => {});
      await waitDetached(ffs);
    }
  }
}

async function serveEdlFromOptions(opts: UsbGadgetOptions): Promise<never> {
  const udc = opts.udc ?? (await ConfigfsGadget.firstUdc());
  return serveEdlGadget({
    // After a successful rescue and reset it boots as the reference device (fastboot, the serial it gives),
    // as the qualcomm-edl device does over TCP: a second gadget on the same UDC.
    bootFastboot: (serial) => {
      serveUsbGadget({ ...DEFAULT_GADGET, serial, udc, gadgetName: 'flashline-booted' }).catch(
        (err: unknown) =>
          report({ gadget: 'error', message: err instanceof Error ? err.message : String(err) }),
      );
    },
    // The fastboot default serial belongs to the reference device; an EDL device has its own unless given.
    serial: opts.serial === DEFAULT_GADGET.serial ? EDL_GADGET.serial : opts.serial,
    udc,
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
    ...(opts.storage ? { storage: opts.storage } : {}),
    ...(opts.saharaVersion ? { saharaVersion: opts.saharaVersion } : {}),
  });
}

const isMain = process.argv[1]?.endsWith('gadget.mjs') || process.argv[1]?.endsWith('serve.ts');
if (isMain) {
  const raw = process.argv[2] ?? '{}';
  let parsed: Partial<UsbGadgetOptions>;
  try {
    parsed = JSON.parse(raw) as Partial<UsbGadgetOptions>;
  } catch {
    console.error(`serve: the argument must be JSON options, got ${raw}`);
    process.exit(2);
  }
  unbindOnSigterm();
  serveUsbGadget({ ...DEFAULT_GADGET, ...parsed }).catch((err: unknown) => {
    report({ gadget: 'error', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
