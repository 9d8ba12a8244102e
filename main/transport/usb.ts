/// <reference types="w3c-web-usb" />
/**
 * fastboot over USB bulk through the WebUSB API of `usb` v3 (loaded lazily): discovery, classification, opening
 * and claiming. The interface is found by class/subclass/protocol 0xFF/0x42/0x03 (AOSP's fastboot interface), the
 * VID:PID table only names the mode. The packet link itself, and what `usb` v3 allows, is in usb-link.ts.
 */
import { withDeadline } from './deadline.js';
import { OpenError, TransportUnavailableError } from './errors.js';
import type { PacketLink } from './types.js';
import { loadUsbIds, lookupUsbId, type UsbIdEntry, type UsbMode } from './usb-ids.js';
import {
  earlierTransfersSettled,
  errorText,
  type FastbootUsbInterface,
  type UsbLinkOptions,
  usbPacketLink,
} from './usb-link.js';
import {
  classifyUsbLibError,
  USB_FAILURE,
  type UsbBackend,
  type UsbConnectionEventLike,
  type UsbDeviceLike,
} from './usb-types.js';

export type { FastbootUsbInterface, UsbLinkOptions } from './usb-link.js';

export const FASTBOOT_USB_CLASS = { class: 0xff, subclass: 0x42, protocol: 0x03 } as const;

/** Load the real backend (`usb`'s WebUSB, all devices allowed). @throws TransportUnavailableError */
export async function loadNodeUsbBackend(): Promise<UsbBackend> {
  try {
    const { WebUSB } = await import('usb');
    const backend: UsbBackend = new WebUSB({ allowAllDevices: true });
    return backend;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new TransportUnavailableError(`no USB access: the usb module did not load (${why})`, {
      cause: err,
    });
  }
}

/** A USB interface class triple (class/subclass/protocol). */
export interface UsbInterfaceClass {
  readonly class: number;
  readonly subclass: number;
  readonly protocol: number;
}

/** Find an interface of class `wanted` with one bulk IN and one bulk OUT endpoint (fastboot's, ADB's). */
export function findBulkInterface(
  device: UsbDeviceLike,
  wanted: UsbInterfaceClass,
): FastbootUsbInterface | undefined {
  for (const config of device.configurations) {
    for (const iface of config.interfaces) {
      for (const alt of iface.alternates) {
        if (
          alt.interfaceClass !== wanted.class ||
          alt.interfaceSubclass !== wanted.subclass ||
          alt.interfaceProtocol !== wanted.protocol
        )
          continue;
        const bulkIn = alt.endpoints.find((e) => e.type === 'bulk' && e.direction === 'in');
        const bulkOut = alt.endpoints.find((e) => e.type === 'bulk' && e.direction === 'out');
        if (bulkIn && bulkOut) {
          return {
            configurationValue: config.configurationValue,
            interfaceNumber: iface.interfaceNumber,
            alternate: alt,
            in: bulkIn,
            out: bulkOut,
          };
        }
      }
    }
  }
  return undefined;
}

/** Find the fastboot interface (class 0xFF/0x42/0x03 with one bulk IN and one bulk OUT endpoint). */
export function findFastbootInterface(device: UsbDeviceLike): FastbootUsbInterface | undefined {
  return findBulkInterface(device, FASTBOOT_USB_CLASS);
}

/** Mode of a USB device: fastboot by interface class first, then the VID:PID table. */
export function classifyUsbDevice(
  device: UsbDeviceLike,
  table: readonly UsbIdEntry[] = loadUsbIds(),
): UsbMode | 'unknown' {
  if (findFastbootInterface(device)) return 'fastboot';
  return lookupUsbId(table, device.vendorId, device.productId)?.mode ?? 'unknown';
}

const hex = (n: number) => n.toString(16).padStart(4, '0');

export function describeUsbDevice(device: UsbDeviceLike): string {
  return `usb ${hex(device.vendorId)}:${hex(device.productId)}${device.serialNumber ? ` ${device.serialNumber}` : ''}`;
}

/**
 * Open the fastboot interface of `device` and return a packet link. `backend` delivers the disconnect event
 * where udevd runs; the link types the library's own errors without it.
 * @throws OpenError when the device has no fastboot interface, is gone, or cannot be claimed
 */
export function openUsb(
  backend: UsbBackend,
  device: UsbDeviceLike,
  opts: UsbLinkOptions = {},
): Promise<PacketLink> {
  return openUsbInterface(backend, device, opts, {
    name: 'fastboot interface',
    usbClass: FASTBOOT_USB_CLASS,
    users: 'fastboot/adb',
  });
}

/** Which interface openUsbInterface claims, and how messages name it. */
export interface UsbInterfaceSpec {
  /** `fastboot interface`, `ADB interface`. */
  readonly name: string;
  readonly usbClass: UsbInterfaceClass;
  /** Who else might hold it (for the "busy" message). */
  readonly users: string;
}

/**
 * Open and claim the bulk interface `spec` names (fastboot's, ADB's) and return its packet link.
 * @throws OpenError when the device has no such interface, is gone, or cannot be claimed
 */
export async function openUsbInterface(
  backend: UsbBackend,
  device: UsbDeviceLike,
  opts: UsbLinkOptions,
  spec: UsbInterfaceSpec,
): Promise<PacketLink> {
  let description = 'a USB device';
  let maybeFound: FastbootUsbInterface | undefined;
  const c = spec.usbClass;
  const classText = [c.class, c.subclass, c.protocol].map((n) => n.toString(16).padStart(2, '0')).join('/');
  try {
    // Both read descriptors, which `usb` v3 fetches by opening the device: "open error: device not found".
    description = describeUsbDevice(device);
    maybeFound = findBulkInterface(device, c);
  } catch (err) {
    throw new OpenError(
      `cannot read the descriptors of ${description} (${errorText(err)}); it may be re-enumerating, try again`,
      { cause: err },
    );
  }
  const found = maybeFound;
  if (!found) throw new OpenError(`${description} has no ${spec.name} (class ${classText})`);
  const io = { timeoutMs: opts.timeoutMs ?? 5000, ...(opts.signal ? { signal: opts.signal } : {}) };
  // A link closed after an abort may still have an IN transfer pending (bounded by its slice): let it end first.
  await earlierTransfersSettled(device, io.timeoutMs);
  try {
    await withDeadline(
      `opening ${description}`,
      (async () => {
        if (!device.opened) await device.open();
        if (device.configuration?.configurationValue !== found.configurationValue) {
          await device.selectConfiguration(found.configurationValue);
        }
        await device.claimInterface(found.interfaceNumber);
        if (found.alternate.alternateSetting !== 0) {
          await device.selectAlternateInterface(found.interfaceNumber, found.alternate.alternateSetting);
        }
      })(),
      io,
    );
  } catch (err) {
    await device.close().catch(() => {});
    const gone = classifyUsbLibError(err) === USB_FAILURE.gone;
    throw new OpenError(
      gone
        ? `${description} went away while it was being opened (${errorText(err)}); it may be re-enumerating, try again`
        : `cannot claim the ${spec.name} of ${description} (${errorText(err)}); is another ${spec.users} process using it, or are udev permissions missing?`,
      { cause: err },
    );
  }
  return usbPacketLink(backend, device, found, description, opts);
}

export interface UsbDeviceWatch {
  /** Stop listening. */
  stop(): void;
}

/**
 * Report devices present now and as they come and go (hotplug). Callbacks receive every device; the caller
 * decides what it cares about (see classifyUsbDevice).
 */
export async function watchUsbDevices(
  backend: UsbBackend,
  onAdded: (device: UsbDeviceLike) => void,
  onRemoved: (device: UsbDeviceLike) => void,
): Promise<UsbDeviceWatch> {
  const add = (ev: UsbConnectionEventLike) => onAdded(ev.device);
  const remove = (ev: UsbConnectionEventLike) => onRemoved(ev.device);
  backend.addEventListener('connect', add);
  backend.addEventListener('disconnect', remove);
  for (const d of await backend.getDevices()) onAdded(d);
  return {
    stop() {
      backend.removeEventListener('connect', add);
      backend.removeEventListener('disconnect', remove);
    },
  };
}
