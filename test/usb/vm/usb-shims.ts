/// <reference types="w3c-web-usb" />
/**
 * A stand-in for udevd in the VM, used by one step only (engine-cable-pull-hotplug): `usb` learns of unplugs
 * from udevd's netlink messages and the VM has no udevd, so no `disconnect` event ever comes. When a transfer
 * fails and the device is gone from sysfs (what udev would report), this dispatches the `disconnect` event before
 * the failure is passed on, as a system with udevd may. The transport types the library's own errors without it
 * (the other steps use no shim); this step shows the event path works too.
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

function hookFailures(dev: UsbDeviceLike): void {
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
  // The caller's timeout (the transport passes its deadline) goes through unchanged.
  d.transferIn = (ep, length, timeout) => tin(ep, length, timeout).catch(onError);
  d.transferOut = (ep, data, timeout) => tout(ep, data, timeout).catch(onError);
}

/** A backend whose devices dispatch `disconnect` on a failed transfer once they are gone from sysfs. */
export function shimBackend(backend: UsbBackend): UsbBackend {
  const listeners = new Set<Listener>();
  return {
    getDevices: async () => {
      const devices = await backend.getDevices();
      for (const d of devices) {
        hookFailures(d);
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
      if (type === 'disconnect') listeners.add(listener);
      backend.addEventListener(type, listener);
    },
    removeEventListener: (type, listener) => {
      listeners.delete(listener);
      backend.removeEventListener(type, listener);
    },
  };
}
