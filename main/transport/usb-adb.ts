/**
 * ADB over USB: the interface with class/subclass/protocol 0xFF/0x42/0x01 (AOSP adb's ADB_CLASS /
 * ADB_SUBCLASS / ADB_PROTOCOL) and its two bulk endpoints, opened into the same packet link fastboot uses.
 * ADB then sends each message's 24-byte header and its payload as separate transfers (main/protocol/adb's
 * packetMessageLink). A phone shows this interface in Android with USB debugging on, fastboot's in the
 * bootloader; both belong to one `usb:SERIAL` id.
 */
import type { PacketLink } from './types.js';
import { findBulkInterface, openUsbInterface, type UsbLinkOptions } from './usb.js';
import type { FastbootUsbInterface } from './usb-link.js';
import type { UsbBackend, UsbDeviceLike } from './usb-types.js';

export const ADB_USB_CLASS = { class: 0xff, subclass: 0x42, protocol: 0x01 } as const;

/** The ADB interface of `device`, if it shows one (USB debugging enabled, Android or recovery running). */
export function findAdbInterface(device: UsbDeviceLike): FastbootUsbInterface | undefined {
  return findBulkInterface(device, ADB_USB_CLASS);
}

/**
 * Open and claim the ADB interface of `device`.
 * @throws OpenError when the device shows no ADB interface, is gone, or the interface is busy
 */
export function openUsbAdb(
  backend: UsbBackend,
  device: UsbDeviceLike,
  opts: UsbLinkOptions = {},
): Promise<PacketLink> {
  return openUsbInterface(backend, device, opts, {
    name: 'ADB interface',
    usbClass: ADB_USB_CLASS,
    // Google's adb server claims every ADB interface it sees.
    users: "adb server ('adb kill-server') or Flashline",
  });
}
