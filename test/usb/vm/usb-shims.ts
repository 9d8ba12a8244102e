/// <reference types="w3c-web-usb" />
/**
 * Work-arounds the VM steps use to prove the rest of the USB path while main/transport/usb.ts is fixed; each one
 * stands for a finding reported in docs/usb-testing.md. Steps that use none of them test the transport as shipped.
 *
 * - `usb` v3's WebUSB transfer methods take a non-standard third argument, a timeout defaulting to 1000 ms; a
 *   device slower than that to answer (a flash, an erase) fails with "Cancelled". Patched devices get 60 s
 *   (the transport's own deadlines still apply). Patched on the instance, so identity (events) is kept.
 * - `usb` learns of unplugs from udevd's netlink messages; the VM has no udevd, so no `disconnect` event ever
 *   comes. With `hotplug`, when a transfer fails and the device is gone from sysfs (what udev would report),
 *   the `disconnect` event is dispatched before the failure is passed on: the transport waits for that event
 *   to type the error.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { UsbBackend, UsbConnectionEventLike, UsbDeviceLike } from '../../../main/transport/usb-types.js';

type TransferIn = (ep: number, length: number, timeout?: number) => Promise<USBInTransferResult>;
type TransferOut = (ep: number, data: Uint8Array, timeout?: number) => Promise<USBOutTransferResult>;
type Listener = (ev: UsbConnectionEventLike) => void;

const patched = new WeakSet<object>();
const goneHooks = new WeakMap<object, () => void>();

/** True once no device under /sys/bus/usb/devices carries `serial` (waits up to 1 s for usbcore). */
async function goneFromSysfs(serial: string | null | undefined): Promise<boolean> {
  if (!serial) return false;
  for (let i = 0; i < 20; i++) {
    let present = false;
    for (const d of await readdir('/sys/bus/usb/devices').catch(() => [])) {
      const s = await readFile(join('/sys/bus/usb/devices', d, 'serial'), 'utf8').catch(() => '');
      if (s.trim() === serial) present = true;
    }
    if (!present) return true;
    await sleep(50);
  }
  return false;
}

export function patchLibTimeouts(dev: UsbDeviceLike): void {
  if (patched.has(dev)) return;
  patched.add(dev);
  const d = dev as unknown as { transferIn: TransferIn; transferOut: TransferOut };
  const tin = d.transferIn.bind(dev);
  const tout = d.transferOut.bind(dev);
  const onError = async (err: unknown): Promise<never> => {
    const hook = goneHooks.get(dev);
    if (hook && (await goneFromSysfs(dev.serialNumber))) hook();
    throw err;
  };
  d.transferIn = (ep, length) => tin(ep, length, 60_000).catch(onError);
  d.transferOut = (ep, data) => tout(ep, data, 60_000).catch(onError);
}

/** A backend whose devices get the lifted timeout, and with `hotplug` the udev stand-in described above. */
export function shimBackend(backend: UsbBackend, opts: { hotplug: boolean }): UsbBackend {
  const listeners = new Set<Listener>();
  return {
    getDevices: async () => {
      const devices = await backend.getDevices();
      for (const d of devices) {
        patchLibTimeouts(d);
        if (!opts.hotplug) continue;
        let fired = false;
        goneHooks.set(d, () => {
          if (fired) return;
          fired = true;
          for (const l of [...listeners]) l({ device: d });
        });
      }
      return devices;
    },
    addEventListener: (type, listener) => {
      if (type === 'disconnect' && opts.hotplug) listeners.add(listener);
      backend.addEventListener(type, listener);
    },
    removeEventListener: (type, listener) => {
      listeners.delete(listener);
      backend.removeEventListener(type, listener);
    },
  };
}
