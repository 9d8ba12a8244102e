/**
 * Serves the simulated phone's adbd (../adb/serve-adb.ts, with the stock phone's AdbDeviceHandler) over the
 * two bulk endpoints of a FunctionFS function with interface ff/42/01, as Android's adbd does on its ffs.adb
 * function. The protocol stays in serveAdb; this file only turns the endpoints into the Duplex it takes.
 *
 * Transfer layout (AOSP adbd's USB code, docs/adb.md): each message is a 24-byte header transfer and, when it
 * has one, a payload transfer. So OUT reads ask for exactly the header, then for exactly the payload length
 * the header announces — as adbd's FunctionFS reader does — so a read never swallows the next message; a
 * zero-length packet between messages is skipped. Every write of serveAdb (it writes header and payload
 * separately) is one IN transfer.
 */
import { ADB_HEADER_LENGTH, ADB_MAX_PAYLOAD } from '../../main/protocol/adb/wire.js';
import type { AdbDeviceHandler, AdbServerOptions, AdbSessionEnd } from '../adb/device-handler.js';
import { serveAdb } from '../adb/serve-adb.js';
import { FfsDuplex } from './ffs-duplex.js';
import type { FunctionFs } from './functionfs.js';

/** Where data_length sits in the header (protocol.txt: command, arg0, arg1, data_length, data_check, magic). */
const DATA_LENGTH_AT = 12;

const debug = process.env.FLASHLINE_USB_DEBUG
  ? (msg: string) => process.stderr.write(`usb-gadget adb: ${msg}\n`)
  : () => {};

class FfsAdbLink extends FfsDuplex {
  /** Exactly `length` bytes, in as many transfers as the host used; null when the link went down. */
  async #exactly(length: number, skipEmpty: boolean): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < length) {
      const part = await this.transfer(length - got);
      if (part === null) return null;
      if (part.byteLength === 0 && skipEmpty && got === 0) continue; // a zero-length packet between messages
      parts.push(part);
      got += part.byteLength;
    }
    return Buffer.concat(parts, got);
  }

  protected async pump(): Promise<void> {
    while (!this.stopped) {
      const header = await this.#exactly(ADB_HEADER_LENGTH, true);
      if (header === null) return;
      debug(`<- ${header.subarray(0, 4).toString('latin1')} + ${header.readUInt32LE(DATA_LENGTH_AT)} bytes`);
      this.push(header);
      const length = header.readUInt32LE(DATA_LENGTH_AT);
      // An oversized length is serveAdb's parser's to refuse (it ends the session); do not read it.
      if (length === 0 || length > ADB_MAX_PAYLOAD) continue;
      const payload = await this.#exactly(length, false);
      if (payload === null) return;
      this.push(payload);
    }
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null) => void): void {
    const head = chunk.byteLength === ADB_HEADER_LENGTH ? chunk.subarray(0, 4).toString('latin1') : 'payload';
    debug(`-> ${head} (${chunk.byteLength} bytes)`);
    this.finishWrite(this.ffs.writeTransfer(chunk), done);
  }
}

/** How an ADB session over USB ended: serveAdb's end, or `cable-pull` when the function went down. */
export type UsbAdbSessionEnd = AdbSessionEnd | { readonly reason: 'cable-pull' };

/**
 * One adbd session on an enabled FunctionFS ADB function. Hosts come and go within it (each new CNXN starts
 * over, as on a phone). When it ends other than by a cable pull, a read may still be queued in the kernel:
 * the caller detaches from the bus (unbind) before serving again.
 */
export async function serveAdbOverUsb(
  ffs: FunctionFs,
  handler: AdbDeviceHandler,
  options: AdbServerOptions,
): Promise<UsbAdbSessionEnd> {
  const link = new FfsAdbLink(ffs, debug);
  const end = await serveAdb(link, handler, options);
  link.destroy();
  return end.reason !== 'reboot' && link.linkDown ? { reason: 'cable-pull' } : end;
}
