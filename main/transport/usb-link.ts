/**
 * The fastboot packet link over a claimed USB interface, shaped by what `usb` v3 really does (USB_LIB in
 * usb-types.ts, found on a real Linux USB stack in the qemu VM, docs/usb-testing.md):
 * - one pending transfer per endpoint: the data phase keeps one OUT transfer in flight (more only where a backend
 *   queues them, e.g. browser WebUSB) and fills the next buffer from the source meanwhile. With one URB at a time
 *   the transfer size is the lever: each transfer costs a round trip through the library's thread pool and the
 *   kernel, so 1 MiB transfers leave the bus idle far less often than AOSP's 16 KiB ones (AOSP keeps two in flight
 *   instead, which this library cannot). usbfs splits a large URB with scatter-gather (Linux >= 3.6).
 * - a per-transfer timeout (default 1 s): every transfer carries the operation's deadline.
 * - plain Error texts, and `disconnect` events only where udevd runs: errors are typed here from their text.
 * - no zero-length packets, as AOSP's client (usb_linux.cpp) sends none: the device knows every length.
 */
import { FlashlineError } from '../common/errors.js';
import { DEFAULT_IO_TIMEOUT_MS, type IoOptions, withDeadline } from './deadline.js';
import { AbortedError, DisconnectedError, TimeoutError } from './errors.js';
import type { ByteProgress, PacketLink } from './types.js';
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

export interface FastbootUsbInterface {
  readonly configurationValue: number;
  readonly interfaceNumber: number;
  readonly alternate: UsbAlternateLike;
  readonly in: UsbEndpointLike;
  readonly out: UsbEndpointLike;
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

/** Beyond our own deadline, so our TimeoutError (naming the operation) settles first and the URB ends soon after. */
const NATIVE_GRACE_MS = 1000;
/**
 * With an AbortSignal, a response wait is cut into IN transfers of this length: the library cannot cancel a
 * transfer, and a pending one keeps the interface claimed after an abort, so a re-open would find it busy for
 * up to the whole response timeout. A response is at most 256 bytes, one packet at high speed, so re-submitting
 * the read cannot split it.
 */
const RECEIVE_SLICE_MS = 1000;

const BUSY_RETRY_MS = 25;

/**
 * Submit a transfer, waiting while the endpoint is still held by a transfer of an earlier link (closed after a
 * timeout or abort; `usb` cannot cancel it, and it ends within its own native timeout). Bounded by `until`.
 */
export async function whenEndpointFree<T>(submit: () => Promise<T>, until: number): Promise<T> {
  for (;;) {
    try {
      return await submit();
    } catch (err) {
      if (classifyUsbLibError(err) !== USB_FAILURE.busy || Date.now() + BUSY_RETRY_MS >= until) throw err;
      await new Promise((resolve) => setTimeout(resolve, BUSY_RETRY_MS));
    }
  }
}

/**
 * Transfers still pending per device, across links. `usb` cannot cancel a transfer, so a link closed after a
 * timeout or abort leaves its IN transfer pending until its native timeout; a new link on the same device must
 * not send a command before it ends, or that stale transfer would swallow the reply.
 */
const pendingByDevice = new WeakMap<object, Set<Promise<unknown>>>();

/** Count `transfer` as pending on `device` until it settles (a re-open or a release waits for it). */
export function track<T>(device: object, transfer: Promise<T>): Promise<T> {
  let set = pendingByDevice.get(device);
  if (!set) {
    set = new Set();
    pendingByDevice.set(device, set);
  }
  const entry = transfer.then(
    () => undefined,
    () => undefined,
  );
  set.add(entry);
  void entry.then(() => set.delete(entry));
  return transfer;
}

/** Wait (at most `maxWaitMs`) until no transfer of an earlier link is pending on `device`. */
export async function earlierTransfersSettled(device: object, maxWaitMs: number): Promise<void> {
  const set = pendingByDevice.get(device);
  if (!set || set.size === 0) return;
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all([...set]),
    new Promise((resolve) => {
      timer = setTimeout(resolve, maxWaitMs);
    }),
  ]);
  clearTimeout(timer);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** The packet link over a claimed fastboot interface (openUsb in usb.ts opens and claims it). */
export function usbPacketLink(
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
    if (!released) {
      // An IN slice still pending (ADB's reader at close) keeps the interface claimed past the release: a
      // re-open found it busy on the qemu USB stack. Release once it ended (bounded by its native timeout);
      // the release is tracked like a transfer, so a re-open of this device waits for it too.
      const settled = earlierTransfersSettled(device, RECEIVE_SLICE_MS + NATIVE_GRACE_MS);
      released = track(
        device,
        withDeadline(
          `closing ${description}`,
          (async () => {
            await settled;
            await device.releaseInterface(iface.interfaceNumber).catch(() => {});
            await device.close().catch(() => {});
          })(),
          { timeoutMs: 2000 + RECEIVE_SLICE_MS + NATIVE_GRACE_MS },
        ).catch(() => {}),
      );
    }
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
        const gone = new DisconnectedError(`${what}: the device went away (${text})`, { cause: err });
        markGone(gone);
        return gone;
      }
      case USB_FAILURE.cancelled:
        return new TimeoutError(what, nativeTimeoutMs);
      case USB_FAILURE.stall:
        return new FlashlineError('usb_stall', `${what}: the device stalled the endpoint (${text})`);
      default:
        return new FlashlineError('usb_transfer_failed', `${what} failed (${text})`);
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
    const r = await whenEndpointFree(
      () => track(device, device.transferOut(iface.out.endpointNumber, bytes, timeout)),
      Date.now() + timeout,
    ).catch((err: unknown) => Promise.reject(typed(what, err, timeout)));
    if (r.status !== 'ok') throw typed(what, new Error(`OUT transfer ${r.status}`), timeout);
    if (r.bytesWritten !== bytes.byteLength) {
      throw new DisconnectedError(
        `${description}: short OUT transfer (${r.bytesWritten}/${bytes.byteLength})`,
      );
    }
  };

  const inOnce = async (what: string, length: number, timeout: number): Promise<Uint8Array> => {
    const r = await whenEndpointFree(
      () => track(device, device.transferIn(iface.in.endpointNumber, length, timeout)),
      Date.now() + timeout,
    ).catch((err: unknown) => Promise.reject(typed(what, err, timeout)));
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

  const hex4 = (n: number) => n.toString(16).padStart(4, '0');
  const link: PacketLink = {
    kind: 'packet',
    description,
    usbId: `${hex4(device.vendorId)}:${hex4(device.productId)}`,
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
      // Transfer buffers are reused once their transfer completed (inFlight + 1 of them for the whole data
      // phase): a fresh zero-filled 1 MiB buffer per transfer cost an allocation, a memset and GC per MiB.
      const bufferBytes = Math.min(transferSize, Math.max(size, 1));
      const free: Uint8Array[] = [];
      const nextBuffer = () => free.pop() ?? new Uint8Array(bufferBytes);
      let buffer = nextBuffer();
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
        const full = buffer;
        const p = guard(what, out(what, piece, io), io).then(() => {
          // Only a completed transfer gives its buffer back; after a failure nothing is reused.
          free.push(full);
          sent += bytes;
          io.onProgress?.(sent, size);
        });
        p.catch(() => {});
        pending.push(p);
        queued += bytes;
        buffer = nextBuffer();
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
            // The last transfer goes as soon as the data phase is complete, as before.
            if (fill === buffer.byteLength || queued + fill === size) await flush();
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
