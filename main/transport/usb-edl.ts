/**
 * Qualcomm EDL (Sahara, then Firehose) over USB bulk: a device in Emergency Download mode (`05c6:9008`) shows
 * one vendor interface ff/ff/ff (some show ff/ff/10 or ff/ff/11) with a bulk OUT and a bulk IN endpoint. The
 * Sahara and Firehose clients speak over a byte stream (StreamLink), as over TCP and serial, so this file turns
 * the interface's packet link (usb-link.ts: deadlines, cable pulls, uncancellable transfers) into one, with the
 * transfer rules of linux-msm/qdl (qdl.c `qdl_write`/`qdl_read`, facts only):
 * - every write is its own transfer — one Sahara packet, one Firehose document, one payload chunk — because the
 *   device reads a transfer as a unit (a short packet or a zero-length packet ends it);
 * - after a write whose length is a multiple of the OUT endpoint's max packet size, a zero-length packet
 *   (ZLP), so the device's read ends there instead of waiting for more (qdl does the same; Firehose's
 *   `ZlpAwareHost=1` says the host does);
 * - writes go out as transfers of up to 1 MiB (qdl's 2022 build used one max-packet transfer each, newer
 *   builds the payload size; one URB of 1 MiB is what `usb` v3 moves fastest, see usb-link.ts);
 * - IN: a zero-length transfer (the device's ZLP after a reply that filled whole packets) carries no data and
 *   is skipped; reads ask for at least one page (4 KiB, as qdl's reads) so a reply is never cut mid-packet.
 */
import { FlashlineError } from '../common/errors.js';
import { DEFAULT_IO_TIMEOUT_MS, type IoOptions, withDeadline } from './deadline.js';
import { AbortedError, DisconnectedError, TimeoutError } from './errors.js';
import type { PacketLink, StreamLink } from './types.js';
import { findBulkInterface, openUsbInterface, type UsbInterfaceClass, type UsbLinkOptions } from './usb.js';
import {
  errorText,
  type FastbootUsbInterface,
  track as trackTransfer,
  whenEndpointFree,
} from './usb-link.js';
import { classifyUsbLibError, USB_FAILURE, type UsbBackend, type UsbDeviceLike } from './usb-types.js';

/** The interface classes EDL devices show; qdl accepts these three protocols (0xff, 0x10, 0x11). */
export const EDL_USB_CLASSES: readonly UsbInterfaceClass[] = [0xff, 0x10, 0x11].map((protocol) => ({
  class: 0xff,
  subclass: 0xff,
  protocol,
}));

/** Largest OUT transfer (a Firehose payload is at most this by default). */
export const EDL_USB_MAX_TRANSFER = 1 << 20;
/** Smallest IN read: one page, as qdl's reads; a Firehose document or a Sahara packet fits. */
const MIN_READ = 4096;

/** The EDL interface of `device` with its class, if it shows one. */
export function findEdlInterface(
  device: UsbDeviceLike,
): { iface: FastbootUsbInterface; usbClass: UsbInterfaceClass } | undefined {
  for (const usbClass of EDL_USB_CLASSES) {
    const iface = findBulkInterface(device, usbClass);
    if (iface) return { iface, usbClass };
  }
  return undefined;
}

/**
 * Open and claim the EDL interface of `device` as a byte stream.
 * @throws OpenError when the device shows no EDL interface, is gone, or the interface is busy
 */
export async function openUsbEdl(
  backend: UsbBackend,
  device: UsbDeviceLike,
  opts: UsbLinkOptions = {},
): Promise<StreamLink> {
  // Without an EDL interface, openUsbInterface names the usual class in its refusal.
  const found = findEdlInterface(device);
  const packets = await openUsbInterface(backend, device, opts, {
    name: 'Qualcomm EDL interface',
    usbClass: found?.usbClass ?? EDL_USB_CLASSES[0]!,
    users: 'qdl, QFIL, edl.py or Flashline',
  });
  if (!found) throw new Error('unreachable: openUsbInterface refuses a device without the interface');
  return edlStream(packets, found.iface.out.packetSize, usbInReader(device, found.iface, packets));
}

/** One IN transfer of `length` bytes that must end within `timeoutMs`; a TimeoutError leaves the link usable. */
export type EdlInReader = (length: number, timeoutMs: number) => Promise<Uint8Array>;

/**
 * IN transfers with the library's own timeout. Firehose waits for trailing `<log>` documents with a short
 * timeout (100 ms) and Sahara for the ROM's HELLO (1 s), and silence there is an answer, not a failure. The
 * packet link drops itself on a timeout (it cannot know the transfer ended); a transfer given its timeout
 * natively is cancelled by the library when it expires ("… error: Cancelled"), so the interface stays usable
 * for the next one, as qdl's 100 ms reads through USBDEVFS_BULK.
 */
function usbInReader(device: UsbDeviceLike, iface: FastbootUsbInterface, packets: PacketLink): EdlInReader {
  const what = `reading from ${packets.description}`;
  return async (length, timeoutMs) => {
    if (packets.isClosed) throw await packets.disconnected;
    // The endpoint may still be held by an IN transfer of an earlier link on this device (closed after a cable
    // pull or a timeout; `usb` cannot cancel it): wait for it within this read's time, as the fastboot link does.
    const transfer = trackTransfer(
      device,
      whenEndpointFree(
        () => device.transferIn(iface.in.endpointNumber, length, timeoutMs),
        Date.now() + timeoutMs,
      ),
    );
    // A backend that ignores the timeout argument (browser WebUSB) is bounded here; then the link is dropped.
    const r = await withDeadline(what, transfer, { timeoutMs: timeoutMs + NATIVE_GRACE_MS }, () => {
      void packets.close();
    }).catch(async (err: unknown) => {
      if (err instanceof TimeoutError) throw err;
      switch (classifyUsbLibError(err)) {
        case USB_FAILURE.cancelled:
          throw new TimeoutError(what, timeoutMs);
        case USB_FAILURE.gone:
          await packets.close();
          throw new DisconnectedError(`${what}: the device went away (${errorText(err)})`, { cause: err });
        default:
          throw new FlashlineError('usb_transfer_failed', `${what} failed (${errorText(err)})`, undefined, {
            cause: err,
          });
      }
    });
    if (r.status !== 'ok' || !r.data)
      throw new FlashlineError('usb_transfer_failed', `${what} failed (IN transfer ${r.status})`);
    return new Uint8Array(r.data.buffer, r.data.byteOffset, r.data.byteLength);
  };
}

/** Beyond the native timeout, for a backend that does not honour it. */
const NATIVE_GRACE_MS = 1000;

/**
 * The byte stream over an EDL interface: writes through the packet link (deadlines, cable pulls), reads
 * through `readIn` (exported for tests with a fake device).
 */
export function edlStream(packets: PacketLink, packetSize: number, readIn: EdlInReader): StreamLink {
  let pending: Uint8Array = new Uint8Array(0);

  /**
   * One IN transfer with data (ZLPs skipped) of at least a page, rounded up to whole packets. The caller's
   * signal is checked before each transfer, not during one: a transfer cannot be cancelled but by its own
   * timeout, and one cut short could drop the part of a 1 MiB read that already arrived.
   */
  const fill = async (want: number, io: IoOptions): Promise<void> => {
    const timeoutMs = io.timeoutMs ?? DEFAULT_IO_TIMEOUT_MS;
    const until = Date.now() + timeoutMs;
    for (;;) {
      if (io.signal?.aborted)
        throw new AbortedError(`reading from ${packets.description}`, { cause: io.signal.reason });
      const length = Math.ceil(Math.max(MIN_READ, want) / packetSize) * packetSize;
      const got = await readIn(length, Math.max(1, until - Date.now()));
      if (got.byteLength > 0) {
        const data = trimDocumentTransfer(got);
        pending = pending.byteLength === 0 ? data : concat(pending, data);
        return;
      }
      if (Date.now() >= until) throw new TimeoutError(`reading from ${packets.description}`, timeoutMs);
    }
  };
  const take = (n: number): Uint8Array => {
    const out = pending.subarray(0, n);
    pending = pending.subarray(n);
    return out;
  };

  const write = async (bytes: Uint8Array, io: IoOptions = {}): Promise<void> => {
    if (bytes.byteLength === 0) return;
    for (let at = 0; at < bytes.byteLength; at += EDL_USB_MAX_TRANSFER) {
      await packets.send(bytes.subarray(at, at + EDL_USB_MAX_TRANSFER), io);
    }
    if (bytes.byteLength % packetSize === 0) await packets.send(new Uint8Array(0), io);
  };

  return {
    kind: 'stream',
    description: packets.description,
    ...(packets.usbId ? { usbId: packets.usbId } : {}),
    disconnected: packets.disconnected,
    get isClosed() {
      return packets.isClosed;
    },
    close: () => packets.close(),
    async read(io = {}) {
      if (pending.byteLength === 0) await fill(io.maxBytes ?? MIN_READ, io);
      return take(Math.min(io.maxBytes ?? pending.byteLength, pending.byteLength));
    },
    async readExactly(length, io = {}) {
      while (pending.byteLength < length)
        await fill(Math.min(length - pending.byteLength, EDL_USB_MAX_TRANSFER), io);
      return take(length);
    },
    write,
    // write already waits for every transfer to complete.
    writeReleased: write,
  };
}

const XML_START = new TextEncoder().encode('<?xml');
const DATA_END = new TextEncoder().encode('</data>');
const startsWith = (b: Uint8Array, p: Uint8Array, at = 0) => p.every((c, i) => b[at + i] === c);

/**
 * A transfer holding a Firehose document is one unit on USB: what follows its `</data>` in the same transfer
 * (a newline, NUL padding) belongs to it and is dropped, so it can never be taken for the first byte of raw
 * data after a `rawmode="true"` ACK. qdl sends libxml2's newline after every document; the device side
 * (virtual-device/usb-gadget/edl-gadget.ts) applies the same rule to OUT transfers.
 */
export function trimDocumentTransfer(b: Uint8Array): Uint8Array {
  if (!startsWith(b, XML_START)) return b;
  let end = b.byteLength;
  while (end > 0 && (b[end - 1] === 0x0a || b[end - 1] === 0x0d || b[end - 1] === 0x20 || b[end - 1] === 0))
    end--;
  return end < b.byteLength && startsWith(b, DATA_END, end - DATA_END.byteLength) ? b.subarray(0, end) : b;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.byteLength + b.byteLength);
  out.set(a);
  out.set(b, a.byteLength);
  return out;
}
