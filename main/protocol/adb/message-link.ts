/**
 * ADB messages over either link shape. A byte stream (TCP) carries header and payload back to back; USB
 * bulk carries the 24-byte header as one transfer and the payload as the next (AOSP usb_linux /
 * UsbFfsConnection do so), which a PacketLink gives directly. The connection above only sees messages.
 */
import type { IoOptions, PacketLink, StreamLink } from '../../transport/index.js';
import { AdbProtocolError } from './contract.js';
import {
  ADB_HEADER_LENGTH,
  ADB_MAX_PAYLOAD,
  type AdbMessage,
  AdbMessageParser,
  checkPayload,
  decodeHeader,
  encodeHeader,
  encodeMessage,
} from './wire.js';

/** How long a payload may lag behind its header on USB. */
const PAYLOAD_TIMEOUT_MS = 10_000;

export interface AdbMessageLink {
  readonly description: string;
  readonly disconnected: StreamLink['disconnected'];
  readonly isClosed: boolean;
  send(msg: AdbMessage, opts?: IoOptions): Promise<void>;
  /** The next whole message. A timeout never loses bytes: a later call continues where this one stopped. */
  receive(opts?: IoOptions): Promise<AdbMessage>;
  /** After CNXN: the agreed payload limit and whether checksums are verified (versions < 0x01000001). */
  configure(maxPayload: number, verifyChecksum: boolean): void;
  close(): Promise<void>;
}

/** ADB over a byte stream (TCP port 5555, an in-process pipe). */
export function streamMessageLink(link: StreamLink): AdbMessageLink {
  const parser = new AdbMessageParser(ADB_MAX_PAYLOAD);
  const ready: AdbMessage[] = [];
  return {
    description: link.description,
    disconnected: link.disconnected,
    get isClosed() {
      return link.isClosed;
    },
    send: (msg, opts) => link.write(encodeMessage(msg), opts),
    async receive(opts = {}) {
      while (ready.length === 0) {
        const chunk = await link.read({ ...opts, maxBytes: 1 << 20 });
        ready.push(...parser.push(chunk));
      }
      return ready.shift()!;
    },
    configure(maxPayload, verifyChecksum) {
      parser.maxPayload = maxPayload;
      parser.verifyChecksum = verifyChecksum;
    },
    close: () => link.close(),
  };
}

/** ADB over a packet pipe (USB bulk endpoints): header transfer, then the payload transfer(s). */
export function packetMessageLink(link: PacketLink): AdbMessageLink {
  let maxPayload = ADB_MAX_PAYLOAD;
  let verifyChecksum = false;
  // A header whose payload has not fully arrived yet (a receive that timed out halfway keeps it here).
  let header: ReturnType<typeof decodeHeader> | null = null;
  let parts: Uint8Array[] = [];
  let got = 0;
  return {
    description: link.description,
    disconnected: link.disconnected,
    get isClosed() {
      return link.isClosed;
    },
    async send(msg, opts) {
      await link.send(encodeHeader(msg), opts);
      if (msg.payload.byteLength > 0) await link.send(msg.payload, opts);
    },
    async receive(opts = {}) {
      if (!header) {
        const h = await link.receive({ ...opts, maxLength: ADB_HEADER_LENGTH });
        if (h.byteLength < ADB_HEADER_LENGTH) {
          throw new AdbProtocolError(
            `${link.description} sent a ${h.byteLength}-byte transfer where an ADB header was due`,
          );
        }
        header = decodeHeader(h.subarray(0, ADB_HEADER_LENGTH), maxPayload);
        // A device that sends header and payload in one transfer: the rest is the payload's start.
        const rest = h.subarray(ADB_HEADER_LENGTH);
        if (rest.byteLength > header.dataLength) {
          throw new AdbProtocolError(`${link.description} sent more bytes than its ADB header announced`);
        }
        parts = rest.byteLength > 0 ? [rest] : [];
        got = rest.byteLength;
      }
      while (got < header.dataLength) {
        // The payload follows its header at once; its own bound (not the caller's idle wait) and no signal,
        // so a USB read is one transfer that cannot be cut in the middle of a payload.
        const part = await link.receive({
          timeoutMs: PAYLOAD_TIMEOUT_MS,
          maxLength: header.dataLength - got,
        });
        parts.push(part);
        got += part.byteLength;
      }
      const payload = new Uint8Array(got);
      let offset = 0;
      for (const p of parts) {
        payload.set(p, offset);
        offset += p.byteLength;
      }
      const done = header;
      header = null;
      parts = [];
      return checkPayload(done, payload, verifyChecksum);
    },
    configure(max, verify) {
      maxPayload = max;
      verifyChecksum = verify;
    },
    close: () => link.close(),
  };
}
