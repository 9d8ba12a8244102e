/**
 * Serves the virtual device's fastboot over USB bulk endpoints.
 *
 * The virtual device's session (../fastboot-session.ts) speaks fastboot-over-TCP on a Duplex: FB01 handshake,
 * then 8-byte length frames. USB has no framing: one OUT transfer is one command, one IN transfer is one
 * response, and a data phase is a byte count. This adapter is the thinnest seam that reuses the session
 * unchanged: each OUT transfer becomes one frame, each response frame becomes one IN transfer.
 *
 * It also owns the one USB rule the session cannot know: after a command, no OUT transfer may be requested
 * until the response is out, and during a data phase each request asks for at most the bytes still due —
 * otherwise a transfer could swallow the start of the next command or wait forever for bytes that never come.
 * (A packet-level entry point in the session, e.g. `serveFastbootPackets({receive, send})`, would remove the
 * re-framing; see docs/usb-testing.md.)
 */
import { Duplex } from 'node:stream';
import { encodeFrameHeader, FrameParser, TCP_HANDSHAKE } from '../../main/protocol/fastboot/tcp-framing.js';
import type { VirtualDevice } from '../device.js';
import { type SessionEnd, serveFastboot } from '../fastboot-session.js';
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

type Final = { kind: 'final' } | { kind: 'data'; size: number };

export async function serveFastbootOverUsb(
  ffs: FunctionFs,
  device: VirtualDevice,
  stats: UsbSessionStats = { commands: 0, bytesDownloaded: 0 },
): Promise<SessionEnd> {
  const responses = new FrameParser();
  let handshakeLeft = TCP_HANDSHAKE.length;
  let frame: Buffer[] = [];
  let linkDown = false;
  let waiter: ((f: Final) => void) | null = null;
  let wantMore: (() => void) | null = null;
  let writeChain: Promise<void> = Promise.resolve();

  const settle = (f: Final): void => {
    const w = waiter;
    waiter = null;
    w?.(f);
  };

  const linkLost = (): void => {
    linkDown = true;
    stream.push(null);
    settle({ kind: 'final' });
  };

  const sendResponse = (payload: Buffer): void => {
    // After the link dropped, a late reply (e.g. to a flash that was running) must not reach the next host.
    if (linkDown) return;
    const kind = payload.subarray(0, 4).toString('latin1');
    debug(`-> ${payload.subarray(0, 64).toString('latin1')}`);
    writeChain = writeChain
      .then(() => (linkDown ? undefined : ffs.writeTransfer(payload)))
      .then(
        () => {
          if (kind === 'DATA')
            settle({ kind: 'data', size: Number.parseInt(payload.subarray(4).toString('latin1'), 16) });
          else if (kind !== 'INFO' && kind !== 'TEXT') settle({ kind: 'final' });
        },
        () => linkLost(),
      );
  };

  const stream = new Duplex({
    read() {
      const w = wantMore;
      wantMore = null;
      w?.();
    },
    write(chunk: Buffer, _enc, done) {
      let bytes = chunk;
      if (handshakeLeft > 0) {
        const skip = Math.min(handshakeLeft, bytes.byteLength);
        handshakeLeft -= skip;
        bytes = bytes.subarray(skip);
      }
      try {
        for (const ev of responses.push(bytes)) {
          if (ev.kind === 'start') frame = [];
          else if (ev.kind === 'data') frame.push(Buffer.from(ev.bytes));
          else sendResponse(Buffer.concat(frame));
        }
        done();
      } catch (err) {
        done(err as Error);
      }
    },
  });

  const pushFrame = async (payload: Buffer): Promise<void> => {
    const ok = stream.push(Buffer.concat([encodeFrameHeader(payload.byteLength), payload]));
    if (!ok) await new Promise<void>((r) => (wantMore = r));
  };
  const nextFinal = (): Promise<Final> => new Promise((r) => (waiter = r));

  const pump = async (): Promise<void> => {
    stream.push(Buffer.from(TCP_HANDSHAKE, 'latin1'));
    let queued: Promise<Buffer> | null = null;
    try {
      while (!linkDown) {
        const cmd = await (queued ?? ffs.readTransfer(COMMAND_READ));
        queued = null;
        if (cmd.byteLength === 0) {
          debug('<- zero-length packet (ignored)');
          continue;
        }
        stats.commands++;
        debug(`<- ${cmd.subarray(0, 64).toString('latin1')} (${cmd.byteLength} bytes)`);
        const answered = nextFinal();
        await pushFrame(cmd);
        let final = await answered;
        while (final.kind === 'data' && !linkDown) {
          const done = nextFinal();
          let left = final.size;
          while (left > 0) {
            const chunk = await ffs.readTransfer(Math.min(left, DATA_READ));
            left -= chunk.byteLength;
            stats.bytesDownloaded += chunk.byteLength;
            await pushFrame(chunk);
          }
          debug(`data phase of ${final.size} bytes received`);
          // A host may end a data phase that is a multiple of the max packet size with a zero-length packet
          // and wait for it to complete before reading the response; keep a read queued so it can (real UDCs
          // behave alike: their OUT request is re-queued at once). No command can come before the response.
          queued = ffs.readTransfer(COMMAND_READ);
          queued.catch(() => linkLost());
          final = await done;
        }
      }
    } catch (err) {
      if (!(err instanceof FfsIoError)) throw err;
      linkLost();
    }
  };

  const pumping = pump();
  const end = await serveFastboot(stream, device);
  linkDown = true;
  settle({ kind: 'final' });
  if (end.reason === 'closed') {
    await pumping.catch(() => {});
    return { reason: 'cable-pull' };
  }
  // The session ended on its own (reboot, timeout, protocol error) while an OUT read may still be queued in
  // the kernel: the caller must detach from the bus (unbind) before serving again, which fails that read.
  pumping.catch(() => {});
  return end;
}
