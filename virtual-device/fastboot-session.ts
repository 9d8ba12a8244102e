/**
 * Serve fastboot on any Duplex (TCP socket, pty, in-process pair): "FB01" handshake both ways, then
 * 8-byte big-endian length-framed packets (AOSP fastboot README, TCP protocol v1). This file is only the
 * framing: the session itself is packet-session.ts. The stream is never destroyed here: the session returns
 * why it ended and the owner (TCP server, pty runner) decides.
 *
 * Frames are not buffered whole: a data frame (one that starts while a download is open) is handed to the
 * session chunk by chunk as it arrives — the data phase counts bytes, not packets, so that is the same — and
 * only command frames, at most MAX_COMMAND_LENGTH bytes, are collected.
 */
import type { Duplex } from 'node:stream';
import {
  encodeFrame,
  type FrameEvent,
  FrameParser,
  parseHandshake,
  TCP_HANDSHAKE,
} from '../main/protocol/fastboot/tcp-framing.js';
import { MAX_COMMAND_LENGTH } from '../main/protocol/fastboot/wire.js';
import type { VirtualDevice } from './device.js';
import {
  type PacketLink,
  PacketRejected,
  type PacketRequest,
  type SessionEnd,
  type SessionOptions,
  serveFastbootPackets,
} from './packet-session.js';
import { StreamReader } from './stream-reader.js';

export type { SessionEnd, SessionOptions } from './packet-session.js';

export async function serveFastboot(
  stream: Duplex,
  device: VirtualDevice,
  options: SessionOptions = {},
): Promise<SessionEnd> {
  const stall = options.stallTimeoutMs ?? 30_000;
  const reader = new StreamReader(stream);
  const onAbort = () => reader.detach();
  // A peer that vanished makes writes fail; that is a normal end of session, not a crash.
  const ignoreError = () => {};
  options.signal?.addEventListener('abort', onAbort, { once: true });
  stream.on('error', ignoreError);
  try {
    let got = Buffer.alloc(0);
    while (got.byteLength < 4) {
      const chunk = await reader.read(stall).catch((err: unknown) => err as Error);
      if (chunk instanceof Error) return { reason: 'timeout', message: chunk.message };
      if (chunk === null || options.signal?.aborted) return { reason: 'closed' };
      got = Buffer.concat([got, chunk]);
    }
    const version = parseHandshake(got.subarray(0, 4));
    if (version === null || version < 1)
      return { reason: 'protocol-error', message: 'bad handshake (expected FB01)' };
    write(stream, Buffer.from(TCP_HANDSHAKE, 'latin1'));
    return await serveFastbootPackets(
      new FramedLink(stream, reader, stall, got.subarray(4)),
      device,
      options,
    );
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    stream.off('error', ignoreError);
    reader.detach();
  }
}

function write(stream: Duplex, bytes: Uint8Array): void {
  if (!stream.destroyed && stream.writable) stream.write(bytes);
}

/** Length frames <-> packets. */
class FramedLink implements PacketLink {
  readonly #parser = new FrameParser();
  #events: FrameEvent[] = [];
  #frame: 'command' | 'data' | null = null;
  #command: Buffer[] = [];
  #commandLength = 0;

  constructor(
    readonly stream: Duplex,
    readonly reader: StreamReader,
    readonly stallMs: number,
    leftover: Uint8Array,
  ) {
    if (leftover.byteLength > 0) this.#events = [...this.#parser.push(leftover)];
  }

  /** Like a socket write, fire and forget: a gone peer shows up as end of stream on the read side. */
  async send(packet: Uint8Array): Promise<void> {
    write(this.stream, encodeFrame(packet));
  }

  async #next(timeoutMs: number): Promise<FrameEvent | null> {
    while (this.#events.length === 0) {
      // Inside a started frame the host owes us bytes now; between frames it may think for a while.
      const chunk = await this.reader.read(this.#parser.remaining < 0 ? timeoutMs : this.stallMs);
      if (chunk === null) return null;
      this.#events = [...this.#parser.push(chunk)];
    }
    return this.#events.shift() ?? null;
  }

  async receive(request: PacketRequest): Promise<Uint8Array | null> {
    for (;;) {
      const ev = await this.#next(request.timeoutMs);
      if (ev === null) return null;
      if (ev.kind === 'start') {
        // Frames that start during a download carry data; all others carry one command.
        this.#frame = request.phase;
        if (request.phase === 'command') {
          if (ev.length > MAX_COMMAND_LENGTH) {
            throw new PacketRejected(
              `command of ${ev.length} bytes exceeds ${MAX_COMMAND_LENGTH}`,
              'oversized command',
            );
          }
          this.#command = [];
          this.#commandLength = 0;
        }
      } else if (ev.kind === 'data') {
        if (this.#frame === 'data') {
          if (request.phase === 'data') return ev.bytes;
          throw new PacketRejected('data frame continues past the end of the download', 'download overran');
        }
        this.#command.push(Buffer.from(ev.bytes));
        this.#commandLength += ev.bytes.byteLength;
      } else {
        const kind = this.#frame;
        this.#frame = null;
        if (kind === 'command') return Buffer.concat(this.#command, this.#commandLength);
      }
    }
  }
}
