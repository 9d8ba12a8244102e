/// <reference types="w3c-web-usb" />
/**
 * fastboot over USB bulk through the WebUSB API of `usb` v3 (loaded lazily). The interface is found by
 * class/subclass/protocol 0xFF/0x42/0x03 (AOSP's fastboot interface), the VID:PID table only names the mode.
 *
 * Rules kept here (AOSP usb_linux.cpp / README): IN transfers request a multiple of the max packet size;
 * an OUT write whose length is a multiple of the max packet size is followed by a zero-length packet; the
 * data phase keeps several OUT transfers in flight, because one at a time leaves the bus idle between them.
 */
import { type IoOptions, withDeadline } from './deadline.js';
import { DisconnectedError, OpenError, TransportUnavailableError } from './errors.js';
import type { ByteProgress, PacketLink } from './types.js';
import { loadUsbIds, lookupUsbId, type UsbIdEntry, type UsbMode } from './usb-ids.js';
import type {
  UsbAlternateLike,
  UsbBackend,
  UsbConnectionEventLike,
  UsbDeviceLike,
  UsbEndpointLike,
} from './usb-types.js';

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

export interface FastbootUsbInterface {
  readonly configurationValue: number;
  readonly interfaceNumber: number;
  readonly alternate: UsbAlternateLike;
  readonly in: UsbEndpointLike;
  readonly out: UsbEndpointLike;
}

/** Find the fastboot interface (class 0xFF/0x42/0x03 with one bulk IN and one bulk OUT endpoint). */
export function findFastbootInterface(device: UsbDeviceLike): FastbootUsbInterface | undefined {
  for (const config of device.configurations) {
    for (const iface of config.interfaces) {
      for (const alt of iface.alternates) {
        if (
          alt.interfaceClass !== FASTBOOT_USB_CLASS.class ||
          alt.interfaceSubclass !== FASTBOOT_USB_CLASS.subclass ||
          alt.interfaceProtocol !== FASTBOOT_USB_CLASS.protocol
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

export interface UsbLinkOptions extends IoOptions {
  /** Bytes per OUT transfer in the data phase (default 256 KiB). */
  readonly transferSize?: number;
  /** OUT transfers kept in flight during the data phase (default 4). */
  readonly inFlight?: number;
}

/**
 * Open the fastboot interface of `device` and return a packet link. `backend` delivers the disconnect event.
 * @throws OpenError when the device has no fastboot interface or it cannot be claimed
 */
export async function openUsb(
  backend: UsbBackend,
  device: UsbDeviceLike,
  opts: UsbLinkOptions = {},
): Promise<PacketLink> {
  const description = describeUsbDevice(device);
  const found = findFastbootInterface(device);
  if (!found) throw new OpenError(`${description} has no fastboot interface (class ff/42/03)`);
  const io = { timeoutMs: opts.timeoutMs ?? 5000, ...(opts.signal ? { signal: opts.signal } : {}) };
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
    const why = err instanceof Error ? err.message : String(err);
    await device.close().catch(() => {});
    throw new OpenError(
      `cannot claim the fastboot interface of ${description} (${why}); is another fastboot/adb process using it, or are udev permissions missing?`,
      { cause: err },
    );
  }
  return usbPacketLink(backend, device, found, description, opts);
}

function usbPacketLink(
  backend: UsbBackend,
  device: UsbDeviceLike,
  iface: FastbootUsbInterface,
  description: string,
  opts: UsbLinkOptions,
): PacketLink {
  const transferSize = opts.transferSize ?? 256 * 1024;
  const inFlight = Math.max(1, opts.inFlight ?? 4);
  const outPacket = iface.out.packetSize;
  const inPacket = iface.in.packetSize;
  const goneController = new AbortController();
  let resolveGone!: (e: DisconnectedError) => void;
  const disconnected = new Promise<DisconnectedError>((r) => {
    resolveGone = r;
  });
  const markGone = (why: string) => {
    if (goneController.signal.aborted) return;
    const err = new DisconnectedError(`${description}: ${why}`);
    backend.removeEventListener('disconnect', onDisconnect);
    goneController.abort(err);
    resolveGone(err);
  };
  const onDisconnect = (ev: UsbConnectionEventLike) => {
    if (ev.device === device) markGone('the device was unplugged');
  };
  backend.addEventListener('disconnect', onDisconnect);

  const guard = <T>(what: string, work: Promise<T>, io: IoOptions): Promise<T> => {
    if (goneController.signal.aborted) {
      work.catch(() => {});
      return Promise.reject(goneController.signal.reason);
    }
    // WebUSB cannot cancel one transfer; on timeout/abort the only safe recovery is to drop the link.
    return withDeadline(what, work, { ...io, gone: goneController.signal }, () => {
      void link.close();
    }).catch((err: unknown) => {
      if (goneController.signal.aborted && !(err instanceof DisconnectedError)) {
        throw goneController.signal.reason;
      }
      throw err;
    });
  };

  const out = async (bytes: Uint8Array): Promise<void> => {
    const r = await device.transferOut(iface.out.endpointNumber, bytes);
    if (r.status !== 'ok') throw new DisconnectedError(`${description}: OUT transfer ${r.status}`);
    if (r.bytesWritten !== bytes.byteLength) {
      throw new DisconnectedError(
        `${description}: short OUT transfer (${r.bytesWritten}/${bytes.byteLength})`,
      );
    }
  };
  const zlpIfNeeded = async (total: number) => {
    if (total > 0 && total % outPacket === 0) await out(new Uint8Array(0));
  };

  const link: PacketLink = {
    kind: 'packet',
    description,
    disconnected,
    get isClosed() {
      return goneController.signal.aborted;
    },
    async close() {
      if (goneController.signal.aborted) return;
      markGone('closed by Flashline');
      await withDeadline(
        `closing ${description}`,
        (async () => {
          await device.releaseInterface(iface.interfaceNumber).catch(() => {});
          await device.close().catch(() => {});
        })(),
        { timeoutMs: 2000 },
      ).catch(() => {});
    },
    async send(packet, io = {}) {
      await guard(
        `sending to ${description}`,
        (async () => {
          await out(packet);
          await zlpIfNeeded(packet.byteLength);
        })(),
        io,
      );
    },
    async receive(io = {}) {
      const want = Math.max(1, io.maxLength ?? 256);
      const length = Math.ceil(want / inPacket) * inPacket;
      const r = await guard(
        `reading from ${description}`,
        device.transferIn(iface.in.endpointNumber, length),
        io,
      );
      if (r.status !== 'ok' || !r.data)
        throw new DisconnectedError(`${description}: IN transfer ${r.status}`);
      return new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    },
    async sendData(size, source, io: IoOptions & { onProgress?: ByteProgress } = {}) {
      const pending: Promise<void>[] = [];
      let buffer = new Uint8Array(Math.min(transferSize, Math.max(size, 1)));
      let fill = 0;
      let sent = 0;
      let received = 0;
      let queued = 0;
      const flush = async () => {
        if (fill === 0) return;
        const piece = buffer.subarray(0, fill);
        const bytes = fill;
        const p = guard(`sending data to ${description}`, out(piece), io).then(() => {
          sent += bytes;
          io.onProgress?.(sent, size);
        });
        p.catch(() => {});
        pending.push(p);
        queued += bytes;
        buffer = new Uint8Array(Math.min(transferSize, Math.max(size - queued, 1)));
        fill = 0;
        if (pending.length >= inFlight) await pending.shift();
      };
      try {
        for await (const chunk of source) {
          if (received + chunk.byteLength > size) {
            throw new RangeError(`the data source yielded more than the announced ${size} bytes`);
          }
          received += chunk.byteLength;
          let offset = 0;
          while (offset < chunk.byteLength) {
            const take = Math.min(buffer.byteLength - fill, chunk.byteLength - offset);
            buffer.set(chunk.subarray(offset, offset + take), fill);
            fill += take;
            offset += take;
            if (fill === buffer.byteLength) await flush();
          }
        }
        await flush();
        while (pending.length > 0) await pending.shift();
      } finally {
        // On failure, wait for the transfers already queued so none completes after we return.
        await Promise.allSettled(pending);
      }
      if (received !== size) throw new RangeError(`the data source ended after ${received} of ${size} bytes`);
      await guard(`sending data to ${description}`, zlpIfNeeded(size), io);
    },
    async receiveData(size, sink, io = {}) {
      let done = 0;
      while (done < size) {
        const want = Math.min(size - done, transferSize);
        const length = Math.ceil(want / inPacket) * inPacket;
        const r = await guard(
          `reading data from ${description}`,
          device.transferIn(iface.in.endpointNumber, length),
          io,
        );
        if (r.status !== 'ok' || !r.data)
          throw new DisconnectedError(`${description}: IN transfer ${r.status}`);
        const bytes = new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
        done += bytes.byteLength;
        await sink(bytes);
      }
    },
  };
  return link;
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
