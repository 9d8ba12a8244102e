/**
 * The bricked Qualcomm device (`--profile qualcomm-edl`, ../edl/) as a real USB gadget: VID:PID `05c6:9008`
 * ("QUSB__BULK"), one vendor interface ff/ff/ff (or ff/ff/10, ff/ff/11 as some devices show) with a bulk OUT
 * and a bulk IN endpoint, served through FunctionFS. The boot ROM speaks Sahara, the programmer Firehose, on
 * the same two endpoints; what they answer is the virtual device's own code (EdlDeviceHandle.serve), this file
 * only turns the endpoints into the byte stream it takes.
 *
 * Transfer rules, as a Qualcomm device's USB stack keeps them (and as linux-msm/qdl expects, qdl.c):
 * - OUT: a transfer ends at a short packet or a zero-length packet (the host sends one after a write of whole
 *   packets); reads ask for up to 1 MiB (a Firehose payload), and a ZLP carries no data;
 * - IN: every write of the device side (one Sahara packet, one Firehose document, one chunk of read data) is
 *   one transfer, because qdl parses each transfer as one document; a transfer of whole packets is followed by
 *   a ZLP so a host read of a larger buffer ends there.
 *
 * After a session ends (power reset, Sahara RESET, the host gone quiet past the device's idle limit) the device
 * re-enumerates: unbind, bind. That is what a reset looks like on the bus, and it also ends a read still queued
 * in the kernel. A cable pull (an unbind by someone else) just ends the session, as for fastboot (serve.ts).
 */

import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceLink } from '../edl/device-link.js';
import { EdlDeviceHandle } from '../edl/edl-device.js';
import type { EdlStorageType } from '../edl/storage.js';
import type { ConfigfsGadget, GadgetSpec } from './configfs.js';
import { BULK_MAX_PACKET, bulkPairDescriptors, functionStrings, type InterfaceClass } from './descriptors.js';
import { FfsDuplex } from './ffs-duplex.js';
import { FfsIoError, type FunctionFs } from './functionfs.js';
import { createFunctionGadget, report, waitDetached } from './gadget-function.js';

export const EDL_GADGET = {
  vendorId: 0x05c6,
  productId: 0x9008,
  serial: 'FLEDL0001',
  product: 'QUSB__BULK',
} as const;

export interface EdlGadgetOptions {
  readonly serial?: string;
  readonly udc: string;
  readonly stateDir?: string;
  readonly storage?: EdlStorageType;
  readonly saharaVersion?: 2 | 3;
  /** bInterfaceProtocol: 0xff (default), 0x10 or 0x11. */
  readonly interfaceProtocol?: number;
  /**
   * Start the fastboot device it boots into after a successful rescue (a gadget of its own on the same UDC,
   * bound once this one has left the bus). Without it the device stays in EDL after a reset.
   */
  readonly bootFastboot?: (serial: string) => void;
}

/** Largest OUT transfer asked for: one Firehose payload (the virtual programmer's default maximum). */
const OUT_READ = 1 << 20;
/** IN bytes that may wait in the queue before a write waits for its transfer. */
const WRITE_AHEAD = 2 << 20;

const debug = process.env.FLASHLINE_USB_DEBUG
  ? (msg: string) => process.stderr.write(`usb-gadget edl: ${msg}\n`)
  : () => {};

/**
 * An OUT transfer holding a Firehose document is one command: whitespace after its `</data>` (qdl sends
 * libxml2's newline) belongs to it. The device's Firehose reads a byte stream, so without this it would take
 * that newline for the first byte of the raw data that follows a program command (the host side:
 * trimDocumentTransfer in main/transport/usb-edl.ts).
 */
function trimDocument(b: Buffer): Buffer {
  if (!b.subarray(0, 5).equals(XML_START)) return b;
  let end = b.byteLength;
  while (end > 0 && PADDING.includes(b[end - 1]!)) end--;
  return end < b.byteLength && b.subarray(0, end).toString('latin1').endsWith('</data>')
    ? b.subarray(0, end)
    : b;
}
const XML_START = Buffer.from('<?xml');
const PADDING = [0x0a, 0x0d, 0x20, 0];

/** The two bulk endpoints as the byte stream DeviceLink reads and writes. */
class FfsEdlStream extends FfsDuplex {
  bytesIn = 0;
  bytesOut = 0;
  /**
   * Device-side reads that returned data, and zero-length packets. A read ends at a short packet, a ZLP or
   * when full, so this counts the host's writes as the device sees them, not the host's URBs.
   */
  deviceReads = 0;
  zlps = 0;

  constructor(
    ffs: FunctionFs,
    readonly packetSize: number,
  ) {
    super(ffs, debug);
  }

  protected async pump(): Promise<void> {
    while (!this.stopped) {
      const got = await this.transfer(OUT_READ);
      if (got === null) return;
      if (got.byteLength === 0) {
        this.zlps++; // the host's ZLP after a write of whole packets
        continue;
      }
      this.deviceReads++;
      this.bytesIn += got.byteLength;
      if (!this.push(trimDocument(got))) return; // _read starts the pump again when the reader wants more
    }
  }

  /**
   * IN transfers run in order from this queue, and a write is done once it is queued while less than
   * WRITE_AHEAD bytes wait (else when its transfer ends: memory stays bounded during a Firehose read). So a
   * session that ends right after its last reply (power reset: a <log> document, then the ACK) does not lose
   * what is queued when DeviceLink destroys the stream; the serving loop waits for `flushed` before the
   * device leaves the bus.
   */
  #queue: Promise<void> = Promise.resolve();
  #queued = 0;

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const zlp = chunk.byteLength % this.packetSize === 0;
    this.#queued += chunk.byteLength;
    const transfer = this.#queue.then(async () => {
      try {
        await this.ffs.writeTransfer(chunk);
        if (zlp) await this.ffs.writeTransfer(new Uint8Array(0));
        this.bytesOut += chunk.byteLength;
      } finally {
        this.#queued -= chunk.byteLength;
      }
    });
    this.#queue = transfer.catch(() => {});
    if (this.#queued - chunk.byteLength >= WRITE_AHEAD) {
      this.finishWrite(transfer, done);
      return;
    }
    done();
    // Already acknowledged: a failure ends the stream (the device side sees the host gone).
    transfer.catch((err: unknown) => {
      if (err instanceof FfsIoError) this.linkDown = true;
      this.destroy();
    });
  }

  /** Resolves when every queued IN transfer ended, or after `timeoutMs` (a host that stopped reading). */
  flushed(timeoutMs: number): Promise<void> {
    return Promise.race([this.#queue, sleep(timeoutMs)]);
  }
}

export async function serveEdlGadget(opts: EdlGadgetOptions): Promise<never> {
  let current: FfsEdlStream | undefined;
  let gadget: ConfigfsGadget | undefined;
  const boot = opts.bootFastboot;
  const device = await EdlDeviceHandle.start({
    tcp: false,
    ...(boot
      ? {
          bootTo: async ({ serial }: { serial: string }) => {
            // The reset's ACK reaches the host first; then this device leaves the bus and the booted one comes.
            await current?.flushed(5000);
            await gadget?.unbind().catch(() => {});
            boot(serial);
            return { address: `usb:${serial}`, stop: async () => {} };
          },
        }
      : {}),
    storage: opts.storage ?? 'ufs',
    saharaVersion: opts.saharaVersion ?? 2,
    ...(opts.stateDir ? { stateDir: opts.stateDir } : {}),
  });
  const serial = opts.serial ?? EDL_GADGET.serial;
  const iface: InterfaceClass = { class: 0xff, subclass: 0xff, protocol: opts.interfaceProtocol ?? 0xff };
  const spec: GadgetSpec = {
    name: 'flashline-edl',
    vendorId: EDL_GADGET.vendorId,
    productId: EDL_GADGET.productId,
    serial,
    manufacturer: 'Qualcomm CDMA Technologies MSM',
    product: EDL_GADGET.product,
    ffsInstance: 'edl',
    ffsMount: '/dev/ffs-edl',
    configuration: 'edl',
  };
  const made = await createFunctionGadget(
    spec,
    bulkPairDescriptors(iface),
    functionStrings(['QDLoader 9008']),
  );
  gadget = made.gadget;
  const ffs = made.ffs;
  await gadget.bind(opts.udc);
  const st = device.storage;
  report({
    gadget: 'ready',
    udc: opts.udc,
    serial,
    stateDir: device.stateDir,
    oemPkHash: Buffer.from(device.oemPkHash).toString('hex'),
    saharaSerial: device.serialNumber,
    sectorSize: st.sectorSize,
    partitions: st.partitions,
  });

  for (;;) {
    await ffs.waitEnabled(24 * 3600_000);
    const stream = new FfsEdlStream(ffs, BULK_MAX_PACKET.high);
    current = stream;
    const before = device.history.length;
    await device.serve(new DeviceLink(stream));
    // The last replies (a reset's ACK) reach the host before the device leaves the bus.
    await stream.flushed(5000);
    report({
      gadget: 'session-end',
      history: device.history.slice(before),
      mode: device.mode,
      cablePull: stream.linkDown,
      bytesIn: stream.bytesIn,
      bytesOut: stream.bytesOut,
      deviceReads: stream.deviceReads,
      zlps: stream.zlps,
    });
    // Rescued: it runs fastboot on its own gadget now (bootFastboot); this one stays off the bus.
    if (device.mode === 'booted') return new Promise<never>(() => {});
    if (stream.linkDown) {
      // Unplugged: the device loses power, so its ROM starts over when it comes back.
      device.mode = 'sahara';
      await waitDetached(ffs);
      continue;
    }
    // A reset re-enumerates; so does a device whose host went quiet (the next host starts clean). The
    // programmer stays loaded unless it was reset (device.mode says which).
    await gadget.unbind().catch(() => {});
    await waitDetached(ffs);
    await gadget.bind(opts.udc);
  }
}
