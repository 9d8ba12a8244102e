/**
 * Open a fastboot packet link from a device id: `tcp:HOST:PORT`, `serial:PATH`, `usb:SERIAL` (or
 * `usb:VVVV:PPPP` for a device without a serial number). The ids are the ones the device registry shows.
 * `adb:HOST:PORT` (ADB over TCP) is parsed here too, so one parser knows every id, but is opened by
 * main/protocol/adb's openAdb, not as a fastboot link.
 */
import type { IoOptions } from './deadline.js';
import { OpenError } from './errors.js';
import { openSerial, type SerialBackend, type SerialLineSettings } from './serial.js';
import { FASTBOOT_TCP_PORT, openTcp } from './tcp.js';
import type { PacketLink } from './types.js';
import { loadNodeUsbBackend, openUsb, type UsbLinkOptions } from './usb.js';
import type { UsbBackend, UsbDeviceLike } from './usb-types.js';

/** adbd's TCP port (`adb tcpip 5555`, emulators): the default for `adb:HOST`. */
export const ADB_TCP_PORT = 5555;
/** Default port of `edl:HOST` (Flashline's choice, after the EDL USB product id 9008; no standard exists). */
export const EDL_TCP_PORT = 9008;

export type DeviceAddress =
  | { readonly kind: 'tcp'; readonly host: string; readonly port: number }
  /** ADB over TCP (`adb:HOST:PORT`, default port 5555); opened by main/protocol/adb's openAdb. */
  | { readonly kind: 'adb'; readonly host: string; readonly port: number }
  /** Qualcomm EDL (Sahara/Firehose) as a raw TCP byte stream (`edl:HOST:PORT`); opened by openStreamLink. */
  | { readonly kind: 'edl'; readonly host: string; readonly port: number }
  | { readonly kind: 'serial'; readonly path: string }
  | { readonly kind: 'usb'; readonly serial: string }
  | { readonly kind: 'usb-ids'; readonly vendorId: number; readonly productId: number };

/** Parse a device id; throws OpenError saying what a valid id looks like. */
export function parseDeviceId(id: string): DeviceAddress {
  const [scheme, ...restParts] = id.split(':');
  const rest = restParts.join(':');
  if (scheme === 'tcp' || scheme === 'adb' || scheme === 'edl') {
    const m = /^(\[[^\]]+\]|[^:[\]]+)(?::(\d{1,5}))?$/.exec(rest);
    const fallback = scheme === 'tcp' ? FASTBOOT_TCP_PORT : scheme === 'adb' ? ADB_TCP_PORT : EDL_TCP_PORT;
    const port = m?.[2] === undefined ? fallback : Number(m[2]);
    if (m && port > 0 && port <= 65535) return { kind: scheme, host: m[1]!.replace(/^\[|\]$/g, ''), port };
  } else if (scheme === 'serial' && rest.length > 0) {
    return { kind: 'serial', path: rest };
  } else if (scheme === 'usb' && rest.length > 0) {
    const ids = /^([0-9a-f]{4}):([0-9a-f]{4})$/i.exec(rest);
    if (ids)
      return {
        kind: 'usb-ids',
        vendorId: Number.parseInt(ids[1]!, 16),
        productId: Number.parseInt(ids[2]!, 16),
      };
    return { kind: 'usb', serial: rest };
  }
  throw new OpenError(
    `'${id}' is not a device id; use tcp:HOST:PORT (fastboot over TCP), adb:HOST:PORT (ADB over TCP), edl:HOST:PORT (EDL over TCP), serial:PATH or usb:SERIAL (see 'flashline devices')`,
  );
}

export interface OpenLinkOptions extends IoOptions, UsbLinkOptions {
  /** USB backend, or a loader called only when a usb: id is opened (default: `usb`'s WebUSB). */
  readonly usb?: UsbBackend | (() => Promise<UsbBackend>);
  readonly serialBackend?: SerialBackend;
  readonly serialSettings?: SerialLineSettings;
}

function matches(address: DeviceAddress, d: UsbDeviceLike): boolean {
  if (address.kind === 'usb') return d.serialNumber === address.serial;
  if (address.kind === 'usb-ids') return d.vendorId === address.vendorId && d.productId === address.productId;
  return false;
}

/**
 * The connected USB device a `usb:` id names, with its backend (loaded on first use).
 * @throws OpenError when none is connected, TransportUnavailableError without USB access
 */
export async function findUsbDevice(
  id: string,
  address: DeviceAddress,
  opts: Pick<OpenLinkOptions, 'usb'> = {},
): Promise<{ backend: UsbBackend; device: UsbDeviceLike }> {
  const backend =
    typeof opts.usb === 'function' ? await opts.usb() : (opts.usb ?? (await loadNodeUsbBackend()));
  const device = (await backend.getDevices()).find((d) => matches(address, d));
  if (!device)
    throw new OpenError(`no USB device ${id} is connected; check the cable and 'flashline devices'`);
  return { backend, device };
}

/** Open the fastboot link for a device id. @throws OpenError, TimeoutError, AbortedError, TransportUnavailableError */
export async function openLink(id: string, opts: OpenLinkOptions = {}): Promise<PacketLink> {
  const address = parseDeviceId(id);
  const io = {
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  };
  switch (address.kind) {
    case 'tcp':
      return openTcp({ host: address.host, port: address.port, ...io });
    case 'adb':
      throw new OpenError(
        `${id} is an ADB endpoint, not a fastboot one; reboot the device to the bootloader (adb reboot bootloader) and use its fastboot id`,
      );
    case 'edl':
      throw new OpenError(
        `${id} is a Qualcomm EDL (Sahara/Firehose) endpoint, not a fastboot one; use 'flashline rescue' or 'flashline backup'`,
      );
    case 'serial':
      return openSerial({
        path: address.path,
        ...opts.serialSettings,
        ...(opts.serialBackend ? { backend: opts.serialBackend } : {}),
        ...io,
      });
    case 'usb':
    case 'usb-ids': {
      const { backend, device } = await findUsbDevice(id, address, opts);
      return openUsb(backend, device, opts);
    }
  }
}
