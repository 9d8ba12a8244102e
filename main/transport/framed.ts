/**
 * fastboot's TCP framing ("FB01" handshake, then 8-byte big-endian length + payload per packet) turning a
 * byte stream into a PacketLink. Used for TCP and, identically, for fastboot over a serial line.
 * The codec itself is pure and shared with the virtual device; it lives in main/protocol/fastboot, but the
 * transport layer must not import the protocol layer, so the few constants are mirrored here and a unit
 * test checks they agree.
 */
import type { IoOptions } from './deadline.js';
import { AbortedError, DisconnectedError, OpenError } from './errors.js';
import type { ByteProgress, PacketLink, StreamLink } from './types.js';

export const FRAMED_HANDSHAKE = 'FB01';
const HEADER = 8;
/** Responses are at most 256 bytes; anything far bigger than a command packet means a confused peer. */
const MAX_PACKET = 64 * 1024;

function header(length: number): Uint8Array {
  const h = new Uint8Array(HEADER);
  new DataView(h.buffer).setBigUint64(0, BigInt(length));
  return h;
}

/** Exchange the handshake; rejects with OpenError when the peer does not speak fastboot framing. */
export async function handshake(link: StreamLink, opts: IoOptions = {}): Promise<number> {
  const o = { timeoutMs: opts.timeoutMs ?? 5000, ...(opts.signal ? { signal: opts.signal } : {}) };
  await link.write(new TextEncoder().encode(FRAMED_HANDSHAKE), o);
  const reply = await link.readExactly(4, o);
  const text = String.fromCharCode(...reply);
  const m = /^FB(\d\d)$/.exec(text);
  if (!m) {
    throw new OpenError(
      `${link.description} answered '${text.replace(/[^\x20-\x7e]/g, '?')}' instead of a fastboot handshake; is this a fastboot device (TCP port 5554)?`,
    );
  }
  const version = Number(m[1]);
  if (version < 1) throw new OpenError(`${link.description} speaks fastboot framing version ${version}`);
  return version;
}

/** Wrap a stream (already handshaken, see {@link handshake}) into a packet link. */
/** Handshake over a freshly opened byte stream and return its packet link; the stream is closed on failure. */
export async function openFramed(link: StreamLink, opts: IoOptions = {}): Promise<PacketLink> {
  try {
    await handshake(link, opts);
  } catch (err) {
    await link.close();
    throw err;
  }
  return framedPacketLink(link);
}

export function framedPacketLink(link: StreamLink): PacketLink {
  const readFrameHeader = async (opts: IoOptions): Promise<number> => {
    const h = await link.readExactly(HEADER, opts);
    const len = new DataView(h.buffer, h.byteOffset, HEADER).getBigUint64(0);
    if (len > BigInt(Number.MAX_SAFE_INTEGER)) throw new RangeError(`frame length ${len} is absurd`);
    return Number(len);
  };
  let pendingData = 0;

  const framed: PacketLink = {
    kind: 'packet',
    description: link.description,
    disconnected: link.disconnected,
    get isClosed() {
      return link.isClosed;
    },
    close: () => link.close(),
    async send(packet, opts = {}) {
      const frame = new Uint8Array(HEADER + packet.byteLength);
      frame.set(header(packet.byteLength));
      frame.set(packet, HEADER);
      await link.write(frame, opts);
    },
    async receive(opts = {}) {
      const max = opts.maxLength ?? MAX_PACKET;
      const len = await readFrameHeader(opts);
      if (len > max) {
        await link.close();
        throw new DisconnectedError(
          `${link.description} sent a ${len}-byte packet where at most ${max} were expected; link closed`,
        );
      }
      return len === 0 ? new Uint8Array(0) : link.readExactly(len, opts);
    },
    async sendData(size, source, opts: IoOptions & { onProgress?: ByteProgress } = {}) {
      // One frame for the whole data phase, as Google's client does; bytes stream straight from the source.
      // Each chunk is released (handed to the OS) before the next is pulled, so a source may reuse a chunk's
      // buffer once asked for the next one (verified bytes are never overwritten while still queued here).
      await link.write(header(size), opts);
      let done = 0;
      for await (const chunk of source) {
        if (opts.signal?.aborted) throw new AbortedError(`sending data to ${link.description}`);
        if (done + chunk.byteLength > size) {
          throw new RangeError(`the data source yielded more than the announced ${size} bytes`);
        }
        await link.writeReleased(chunk, opts);
        done += chunk.byteLength;
        opts.onProgress?.(done, size);
      }
      if (done !== size) throw new RangeError(`the data source ended after ${done} of ${size} bytes`);
    },
    async receiveData(size, sink, opts = {}) {
      let done = 0;
      while (done < size) {
        if (pendingData === 0) pendingData = await readFrameHeader(opts);
        const part = await link.read({ ...opts, maxBytes: Math.min(pendingData, size - done) });
        pendingData -= part.byteLength;
        done += part.byteLength;
        await sink(part);
      }
    },
  };
  return framed;
}
