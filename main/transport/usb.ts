/// <reference types="w3c-web-usb" />
/**
 * fastboot over USB bulk through the WebUSB API of `usb` v3 (loaded lazily). The interface is found by
 * class/subclass/protocol 0xFF/0x42/0x03 (AOSP's fastboot interface), the VID:PID table only names the mode.
 *
 * Rules kept here, as AOSP's client does (system/core/fastboot/usb_linux.cpp): IN transfers request a multiple
 * of the max packet size; no zero-length packet is ever sent (the device knows every length from the command
 * or the download size, and a ZLP that firmware only reads after answering would deadlock it).
 *
 * What `usb` v3 allows (see USB_LIB in usb-types.ts): one pending transfer per endpoint, each with its own
 * timeout (default 1 s), plain Error texts on failure and a `disconnect` event only where udevd runs. So the
 * data phase keeps one large OUT transfer in flight (AOSP keeps two of 16 KiB; here one URB of `transferSize`
 * amortises the per-transfer gap instead) and reads the source into the next buffer meanwhile; every transfer
 * carries the operation's deadline; and the library's error texts are typed here, without waiting for udev.
 */

import { FlashlineError } from '../common/errors.js';
import { DEFAULT_IO_TIMEOUT_MS, type IoOptions, withDeadline } from './deadline.js';
import {
  AbortedError,
  DisconnectedError,
  OpenError,
  TimeoutError,
  TransportUnavailableError,
} from './errors.js';
import type { ByteProgress, PacketLink } from './types.js';
import { loadUsbIds, lookupUsbId, type UsbIdEntry, type UsbMode } from './usb-ids.js';
import {
  classifyUsbLibError,
  USB_FAILURE,
  USB_LIB,
  type UsbAlternateLike,
  type UsbBackend,
  type UsbConnectionEventLike,
  type UsbDeviceLike,
  type UsbEndpointLike,
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
  /** Bytes per OUT transfer in the data phase (default 1 MiB: one URB; usbfs splits it with scatter-gather). */
  readonly transferSize?: number;
  /**
   * OUT transfers submitted at once in the data phase (default 1). `usb` v3 rejects a second pending transfer
   * on an endpoint ("endpoint not found"), so raise it only for a backend that queues them (browser WebUSB).
   */
  readonly inFlight?: number;
}

/**
 * Open the fastboot interface of `device` and return a packet link. `backend` delivers the disconnect event
 * where udevd runs; the link types the library's own errors without it.
 * @throws OpenError when the device has no fastboot interface, is gone, or cannot be claimed
 */
export async function openUsb(
  backend: UsbBackend,
  device: UsbDeviceLike,
  opts: UsbLinkOptions = {},
): Promise<PacketLink> {
  let description = 'a USB device';
  let maybeFound: FastbootUsbInterface | undefined;
  try {
    // Both read descriptors, which `usb` v3 fetches by opening the device: "open error: device not found".
    description = describeUsbDevice(device);
    maybeFound = findFastbootInterface(device);
  } catch (err) {
    throw new OpenError(
      `cannot read the descriptors of ${description} (${errorText(err)}); it may be re-enumerating, try again`,
      { cause: err },
    );
  }
  const found = maybeFound;
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
    await device.close().catch(() => {});
    const gone = classifyUsbLibError(err) === USB_FAILURE.gone;
    throw new OpenError(
      gone
        ? `${description} went away while it was being opened (${errorText(err)}); it may be re-enumerating, try again`
        : `cannot claim the fastboot interface of ${description} (${errorText(err)}); is another fastboot/adb process using it, or are udev permissions missing?`,
      { cause: err },
    );
  }
  return usbPacketLink(backend, device, found, description, opts);
}

/** Beyond our own deadline, so our TimeoutError (naming the operation) settles first and the URB ends soon after. */
const NATIVE_GRACE_MS = 1000;
/**
 * With an AbortSignal, a response wait is cut into IN transfers of this length: the library cannot cancel a
 * transfer, and a pending one keeps the interface claimed after an abort, so a re-open would find it busy for
 * up to the whole response timeout. A response is at most 256 bytes, one packet at high speed, so re-submitting
 * the read cannot split it.
 */
const RECEIVE_SLICE_MS = 1000;

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function usbPacketLink(
  backend: UsbBackend,
  device: UsbDeviceLike,
  iface: FastbootUsbInterface,
  description: string,
  opts: UsbLinkOptions,
): PacketLink {
  const transferSize = Math.max(1, opts.transferSize ?? 1024 * 1024);
  const inFlight = Math.max(1, opts.inFlight ?? USB_LIB.pendingTransfersPerEndpoint);
  const inPacket = iface.in.packetSize;
  const goneController = new AbortController();
  let resolveGone!: (e: DisconnectedError) => void;
  const disconnected = new Promise<DisconnectedError>((r) => {
    resolveGone = r;
  });
  let released: Promise<void> | undefined;
  const release = (): Promise<void> => {
    released ??= withDeadline(
      `closing ${description}`,
      (async () => {
        await device.releaseInterface(iface.interfaceNumber).catch(() => {});
        await device.close().catch(() => {});
      })(),
      { timeoutMs: 2000 },
    ).catch(() => {});
    return released;
  };
  /** The link is over: fail what is pending, resolve `disconnected`, let the device go. */
  const markGone = (err: DisconnectedError) => {
    if (goneController.signal.aborted) return;
    backend.removeEventListener('disconnect', onDisconnect);
    goneController.abort(err);
    resolveGone(err);
    void release();
  };
  const onDisconnect = (ev: UsbConnectionEventLike) => {
    if (ev.device === device) markGone(new DisconnectedError(`${description}: the device was unplugged`));
  };
  backend.addEventListener('disconnect', onDisconnect);

  /** Type a failure of `usb`: udev's event may never come (containers, minimal systems) or come later. */
  const typed = (what: string, err: unknown, nativeTimeoutMs: number): Error => {
    if (err instanceof FlashlineError) return err;
    if (goneController.signal.aborted && goneController.signal.reason instanceof Error) {
      return goneController.signal.reason;
    }
    const text = errorText(err);
    switch (classifyUsbLibError(err)) {
      case USB_FAILURE.gone: {
        const gone = new DisconnectedError(`${description}: the device went away while ${what} (${text})`, {
          cause: err,
        });
        markGone(gone);
        return gone;
      }
      case USB_FAILURE.cancelled:
        return new TimeoutError(`${what} ${description}`, nativeTimeoutMs);
      case USB_FAILURE.stall:
        return new FlashlineError('usb_stall', `${description} stalled the endpoint while ${what} (${text})`);
      default:
        return new FlashlineError('usb_transfer_failed', `${what} ${description} failed (${text})`);
    }
  };

  const guard = <T>(what: string, work: Promise<T>, io: IoOptions): Promise<T> => {
    if (goneController.signal.aborted) {
      work.catch(() => {});
      return Promise.reject(goneController.signal.reason);
    }
    // A transfer cannot be cancelled; on timeout/abort the only safe recovery is to drop the link.
    return withDeadline(what, work, { ...io, gone: goneController.signal }, () => {
      void link.close();
    }).catch((err: unknown) => {
      // Our own deadline errors close the link themselves: they keep their type.
      if (err instanceof TimeoutError || err instanceof AbortedError) throw err;
      if (goneController.signal.aborted && !(err instanceof DisconnectedError)) {
        throw goneController.signal.reason;
      }
      throw err;
    });
  };

  const nativeTimeout = (io: IoOptions) => (io.timeoutMs ?? DEFAULT_IO_TIMEOUT_MS) + NATIVE_GRACE_MS;

  const out = async (what: string, bytes: Uint8Array, io: IoOptions): Promise<void> => {
    const timeout = nativeTimeout(io);
    const r = await device
      .transferOut(iface.out.endpointNumber, bytes, timeout)
      .catch((err: unknown) => Promise.reject(typed(what, err, timeout)));
    if (r.status !== 'ok') throw typed(what, new Error(`OUT transfer ${r.status}`), timeout);
    if (r.bytesWritten !== bytes.byteLength) {
      throw new DisconnectedError(
        `${description}: short OUT transfer (${r.bytesWritten}/${bytes.byteLength})`,
      );
    }
  };

  const inOnce = async (what: string, length: number, timeout: number): Promise<Uint8Array> => {
    const r = await device
      .transferIn(iface.in.endpointNumber, length, timeout)
      .catch((err: unknown) => Promise.reject(typed(what, err, timeout)));
    if (r.status !== 'ok' || !r.data) throw typed(what, new Error(`IN transfer ${r.status}`), timeout);
    return new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  };

  /** One IN transfer for the whole deadline, or (with a signal) slices of it re-submitted until it ends. */
  const receiveWithin = async (what: string, length: number, io: IoOptions): Promise<Uint8Array> => {
    const total = nativeTimeout(io);
    if (!io.signal) return inOnce(what, length, total);
    const until = Date.now() + total;
    for (;;) {
      const slice = Math.max(1, Math.min(RECEIVE_SLICE_MS, until - Date.now()));
      try {
        return await inOnce(what, length, slice);
      } catch (err) {
        const again =
          err instanceof TimeoutError &&
          !goneController.signal.aborted &&
          !io.signal.aborted &&
          Date.now() < until;
        if (!again) throw err;
      }
    }
  };

  const link: PacketLink = {
    kind: 'packet',
    description,
    disconnected,
    get isClosed() {
      return goneController.signal.aborted;
    },
    async close() {
      markGone(new DisconnectedError(`${description}: closed by Flashline`));
      await release();
    },
    async send(packet, io = {}) {
      const what = `sending to ${description}`;
      await guard(what, out(what, packet, io), io);
    },
    async receive(io = {}) {
      const want = Math.max(1, io.maxLength ?? 256);
      const length = Math.ceil(want / inPacket) * inPacket;
      const what = `reading from ${description}`;
      return guard(what, receiveWithin(what, length, io), io);
    },
    async sendData(size, source, io: IoOptions & { onProgress?: ByteProgress } = {}) {
      const what = `sending data to ${description}`;
      const pending: Promise<void>[] = [];
      let buffer = new Uint8Array(Math.min(transferSize, Math.max(size, 1)));
      let fill = 0;
      let sent = 0;
      let received = 0;
      let queued = 0;
      const flush = async () => {
        if (fill === 0) return;
        // Wait for a free slot first: the next buffer was filled from the source while the last one was sent.
        while (pending.length >= inFlight) await pending.shift();
        const piece = fill === buffer.byteLength ? buffer : buffer.subarray(0, fill);
        const bytes = fill;
        const p = guard(what, out(what, piece, io), io).then(() => {
          sent += bytes;
          io.onProgress?.(sent, size);
        });
        p.catch(() => {});
        pending.push(p);
        queued += bytes;
        buffer = new Uint8Array(Math.min(transferSize, Math.max(size - queued, 1)));
        fill = 0;
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
    },
    async receiveData(size, sink, io = {}) {
      const what = `reading data from ${description}`;
      let done = 0;
      while (done < size) {
        const want = Math.min(size - done, transferSize);
        const length = Math.ceil(want / inPacket) * inPacket;
        const bytes = await guard(what, inOnce(what, length, nativeTimeout(io)), io);
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
