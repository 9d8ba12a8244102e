/**
 * The virtual device as a stock Android phone on USB (profile `stock-android`): in Android it shows an ADB
 * function (interface ff/42/01, served by the virtual adbd with the phone's own AndroidSide handler); after
 * `reboot:bootloader` it drops off the bus and comes back with a fastboot function (ff/42/03) under the same
 * serial, and fastboot's `reboot` brings it back to Android — re-enumeration, as a phone does.
 *
 * Each mode is its own configfs gadget with its own FunctionFS instance, both built at start; a mode switch
 * is an unbind of one and a bind of the other (the same UDC writes a cable pull uses), so the function
 * set never changes under a bound gadget.
 */
import { AndroidSide, rebootInto } from '../android-side.js';
import type { VirtualDevice } from '../device.js';
import type { RebootTarget } from '../profiles.js';
import { serveAdbOverUsb, type UsbAdbSessionEnd } from './adb-function.js';
import type { GadgetSpec } from './configfs.js';
import { adbDescriptors, fastbootDescriptors, functionStrings } from './descriptors.js';
import { serveFastbootOverUsb, type UsbSessionStats } from './fastboot-function.js';
import { createFunctionGadget, type FunctionGadget, report, waitDetached } from './gadget-function.js';

type PhoneMode = 'android' | 'bootloader';

export interface PhoneGadgetIds {
  readonly vendorId: number;
  readonly productId: number;
  readonly serial: string;
  readonly product: string;
  readonly udc: string;
  readonly stateDir: string;
}

const modeOf = (device: VirtualDevice): PhoneMode => (device.mode === 'os' ? 'android' : 'bootloader');

/** Serve `device` (profile stock-android, powered on) as a phone on `ids.udc` until the process ends. */
export async function servePhoneGadget(device: VirtualDevice, ids: PhoneGadgetIds): Promise<never> {
  const spec = (mode: PhoneMode): GadgetSpec => ({
    name: `flashline-${mode}`,
    vendorId: ids.vendorId,
    productId: ids.productId,
    serial: ids.serial,
    manufacturer: 'Flashline',
    product: ids.product,
    // FunctionFS instance names are global: distinct from the reference gadget's `fastboot`.
    ffsInstance: `phone-${mode === 'android' ? 'adb' : 'fastboot'}`,
    ffsMount: `/dev/ffs-phone-${mode === 'android' ? 'adb' : 'fastboot'}`,
    configuration: mode === 'android' ? 'adb' : 'fastboot',
  });
  const gadgets: Record<PhoneMode, FunctionGadget> = {
    android: await createFunctionGadget(
      spec('android'),
      adbDescriptors(),
      functionStrings(['ADB Interface']),
    ),
    bootloader: await createFunctionGadget(
      spec('bootloader'),
      fastbootDescriptors(),
      functionStrings(['fastboot']),
    ),
  };
  const android = new AndroidSide(device, {}, (message) => report({ gadget: 'problem', message }));

  let mode = modeOf(device);
  /** Attach in the device's current mode; after a boot into Android, Android starts its life. */
  const attach = async (booted: boolean): Promise<void> => {
    mode = modeOf(device);
    if (booted && mode === 'android') android.started();
    await gadgets[mode].gadget.bind(ids.udc);
  };
  /** Drop off the bus, boot (when given), come back in the mode the device is in then. */
  const restart = async (boot?: () => Promise<void>): Promise<void> => {
    const was = gadgets[mode];
    await was.gadget.unbind().catch(() => {});
    if (boot) {
      android.stopped();
      await device.exclusive(boot);
    }
    await waitDetached(was.ffs);
    await attach(boot !== undefined);
  };

  await attach(true);
  report({ gadget: 'ready', udc: ids.udc, serial: ids.serial, stateDir: ids.stateDir, mode });
  for (;;) {
    const { ffs } = gadgets[mode];
    await ffs.waitEnabled(24 * 3600_000);
    let end: UsbAdbSessionEnd | Awaited<ReturnType<typeof serveFastbootOverUsb>>;
    // fastbootd (a phone with dynamic partitions) is served by the same fastboot function as the bootloader.
    let into: RebootTarget | undefined;
    if (mode === 'android') {
      end = await serveAdbOverUsb(ffs, android, { serial: ids.serial });
      if (end.reason === 'reboot') into = rebootInto(end.target);
    } else {
      const stats: UsbSessionStats = { commands: 0, bytesDownloaded: 0 };
      end = await serveFastbootOverUsb(ffs, device, stats);
      if (end.reason === 'reboot') into = end.into;
    }
    report({ gadget: 'session-end', mode, ...end });
    if (into) {
      const target = into;
      await restart(() => device.reboot(target));
      report({ gadget: 'mode', mode });
    } else if (end.reason === 'cable-pull') {
      await waitDetached(ffs);
    } else {
      // Timeout, protocol error: re-attach, as a phone resets its USB stack, so the host starts clean and the
      // read still queued in the kernel fails.
      await restart();
    }
  }
}
