/**
 * How a device is named on screen: a product display name and its serial, never a transport address
 * (addresses change with the port or the run; the serial is what is printed on the unit's label).
 */
import type { DeviceInfo } from '../../../main/api/types.js';

/**
 * A product id as words: `flashline-virtual` → `Flashline Virtual`. Names that already read as words
 * (a USB descriptor such as `Google fastboot`) are kept as the device gave them.
 */
export function productName(product: string | undefined): string {
  if (!product) return 'Unknown device';
  if (/\s|[A-Z]/.test(product)) return product;
  return product
    .split(/[-_]+/)
    .filter((w) => w.length > 0)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join(' ');
}

export interface DeviceLabel {
  /** The product as words. */
  readonly name: string;
  /** The serial, or a placeholder while the device has not reported one. */
  readonly serial: string;
  /** `name · serial`, for headings and accessible names. */
  readonly full: string;
}

export function deviceLabel(device: {
  readonly product?: string | undefined;
  readonly serial?: string | undefined;
  readonly state?: DeviceInfo['state'];
  readonly authorization?: DeviceInfo['authorization'];
  readonly mode?: DeviceInfo['mode'];
}): DeviceLabel {
  const name =
    device.state === 'identifying' && !device.product
      ? 'Identifying…'
      : // A phone that has not allowed this computer says nothing more about itself than that it runs Android.
        device.authorization === 'unauthorized' && !device.product
        ? 'Android device'
        : // The boot ROM in EDL names no product: what it is, is what the technician needs to read.
          device.mode === 'edl' && !device.product
          ? 'Qualcomm device in EDL'
          : productName(device.product);
  const serial = device.serial ?? 'no serial yet';
  return { name, serial, full: `${name} · ${serial}` };
}

/**
 * Stable screen order: by port (the address, numbers compared as numbers so port 9 sorts before 10), then by
 * serial, then by id — the same order on every run with the same cabling. Virtual devices listen on ports the
 * system picks at random each run, so their serial orders them instead.
 */
export function compareDevices(a: DeviceInfo, b: DeviceInfo): number {
  const opts = { numeric: true, sensitivity: 'base' } as const;
  const byAddress = a.address.localeCompare(b.address, 'en', opts);
  const bySerial = (a.serial ?? '').localeCompare(b.serial ?? '', 'en', opts);
  const virtual = a.connection === 'virtual' && b.connection === 'virtual';
  return (virtual ? bySerial || byAddress : byAddress || bySerial) || a.id.localeCompare(b.id, 'en', opts);
}

export function sortDevices(devices: readonly DeviceInfo[]): DeviceInfo[] {
  return [...devices].sort(compareDevices);
}
