/**
 * Serves the virtual device's fastboot over USB bulk endpoints, straight on the packet-level session
 * (../packet-session.ts): one OUT transfer is one command, one IN transfer is one response, and a data phase
 * is a byte count.
 *
 * It owns the USB rules the session cannot know: a read is requested only when the session asks for the next
 * packet (so never before the previous response is out), and during a data phase each read asks for at most
 * the bytes still due — otherwise a transfer could swallow the start of the next command or wait forever for
 * bytes that never come. Zero-length packets between commands are USB-level noise and are skipped.
 */
import type { VirtualDevice } from '../device.js';
import {
  type PacketLink,
  type PacketRequest,
  SendTimeoutError,
  type SessionEnd,
  serveFastbootPackets,
} from '../packet-session.js';
import { ReadTimeoutError } from '../stream-reader.js';
import { FfsIoError, type FunctionFs } from './functionfs.js';

/** Largest OUT request in command mode: any fastboot command fits, and it is a multiple of 512. */
const COMMAND_READ = 4096;
/** Largest OUT request during a data phase (a multiple of the high-speed max packet size). */
const DATA_READ = 1024 * 1024;

export interface UsbSessionStats {
  commands: number;
  bytesDownloaded: number;
}

const debug = process.env.FLASHLINE_USB_DEBUG
  ? (msg: string) => process.stderr.write(`usb-gadget: ${msg}\n`)
  : () => {};

/** A read that is already queued in the kernel; its failure is observed when (if ever) it is awaited. */
type Pending = Promise<Buffer | FfsIoError>;

class UsbPacketLink implements PacketLink {
  #queued: Pending | null = null;

  constructor(
    readonly ffs: FunctionFs,
    readonly stats: UsbSessionStats,
  ) {}

  #read(length: number): Pending {
    return this.ffs.readTransfer(length).catch((err: unknown) => {
      if (err instanceof FfsIoError) return err;
      throw err;
    });
  }

  async #await(read: Pending, timeoutMs: number): Promise<Buffer | null> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    try {
      const got = await Promise.race([read, timeout]);
      if (got === 'timeout') {
        // A blocking read cannot be cancelled; it stays queued until the owner unbinds the gadget.
        throw new ReadTimeoutError(timeoutMs);
      }
      if (got instanceof FfsIoError) {
        debug(`link down: ${got.message}`);
        return null;
      }
      return got;
    } finally {
      clearTimeout(timer);
    }
  }

  async receive(request: PacketRequest): Promise<Uint8Array | null> {
    if (request.phase === 'data') {
      const chunk = await this.#await(this.#read(Math.min(request.maxLength, DATA_READ)), request.timeoutMs);
      if (chunk === null) return null;
      this.stats.bytesDownloaded += chunk.byteLength;
      if (chunk.byteLength === request.maxLength) {
        debug('data phase received');
        // A host may end a data phase that is a multiple of the max packet size with a zero-length packet and
        // wait for it to complete before reading the response; keep a read queued so it can (real UDCs behave
        // alike: their OUT request is re-queued at once). No command can come before the response.
        this.#queued = this.#read(COMMAND_READ);
      }
      return chunk;
    }
    for (;;) {
      const read = this.#queued ?? this.#read(COMMAND_READ);
      this.#queued = null;
      const cmd = await this.#await(read, request.timeoutMs);
      if (cmd === null) return null;
      if (cmd.byteLength === 0) {
        debug('<- zero-length packet (ignored)');
        continue;
      }
      this.stats.commands++;
      debug(`<- ${cmd.subarray(0, 64).toString('latin1')} (${cmd.byteLength} bytes)`);
      return cmd;
    }
  }

  async send(packet: Uint8Array, timeoutMs: number): Promise<void> {
    debug(`-> ${Buffer.from(packet.subarray(0, 64)).toString('latin1')}`);
    let timer: NodeJS.Timeout | undefined;
    // Like a read, a blocked write cannot be cancelled: the owner's unbind after the 'timeout' end fails it.
    const write = this.ffs.writeTransfer(packet).then(() => 'done' as const);
    write.catch(() => {});
    const timeout = new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), timeoutMs);
    });
    try {
      if ((await Promise.race([write, timeout])) === 'timeout') throw new SendTimeoutError(timeoutMs);
    } finally {
      clearTimeout(timer);
    }
  }
}

/**
 * One fastboot session on an enabled FunctionFS function. A link that goes down (unbind, disable) ends it as
 * 'cable-pull'. When it ends otherwise (reboot, timeout, protocol error) an OUT read may still be queued in the
 * kernel: the caller must detach from the bus (unbind) before serving again, which fails that read.
 */
export async function serveFastbootOverUsb(
  ffs: FunctionFs,
  device: VirtualDevice,
  stats: UsbSessionStats = { commands: 0, bytesDownloaded: 0 },
): Promise<SessionEnd> {
  const end = await serveFastbootPackets(new UsbPacketLink(ffs, stats), device);
  return end.reason === 'closed' ? { reason: 'cable-pull' } : end;
}
