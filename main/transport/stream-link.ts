/**
 * A StreamLink over any Node Duplex (net.Socket, a SerialPort, an in-process pipe). Incoming bytes are
 * queued with backpressure (the source is paused above a high-water mark) so memory stays bounded, and
 * every read/write is bounded by a deadline and fails fast with DisconnectedError once the stream is gone.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { type IoOptions, withDeadline } from './deadline.js';
import { DisconnectedError } from './errors.js';
import type { StreamLink } from './types.js';

const HIGH_WATER = 1 << 20;
const WRITE_AHEAD = 4 << 20;

export function streamLink(stream: Duplex, description: string): StreamLink {
  const queue: Uint8Array[] = [];
  let queued = 0;
  let waiter: (() => void) | null = null;
  let gone: DisconnectedError | null = null;
  let resolveGone!: (e: DisconnectedError) => void;
  const disconnected = new Promise<DisconnectedError>((r) => {
    resolveGone = r;
  });
  const goneController = new AbortController();

  const wake = () => {
    const w = waiter;
    waiter = null;
    w?.();
  };
  const markGone = (reason: string, cause?: unknown) => {
    if (gone) return;
    gone = new DisconnectedError(`${description}: ${reason}`, { cause });
    resolveGone(gone);
    goneController.abort(gone);
    wake();
  };

  stream.on('data', (chunk: Buffer) => {
    queue.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    queued += chunk.byteLength;
    if (queued > HIGH_WATER) stream.pause();
    wake();
  });
  stream.on('end', () => markGone('the peer closed the connection'));
  stream.on('close', () => markGone('the connection closed'));
  stream.on('error', (err: Error) => markGone(`connection error (${err.message})`, err));

  const take = (max: number): Uint8Array => {
    const head = queue[0]!;
    let out: Uint8Array;
    if (head.byteLength <= max) {
      queue.shift();
      out = head;
    } else {
      out = head.subarray(0, max);
      queue[0] = head.subarray(max);
    }
    queued -= out.byteLength;
    if (queued <= HIGH_WATER / 2 && stream.isPaused() && !gone) stream.resume();
    return out;
  };

  const waitForData = (what: string, opts: IoOptions): Promise<void> => {
    if (queue.length > 0) return Promise.resolve();
    if (gone) return Promise.reject(gone);
    const arrived = new Promise<void>((resolve, reject) => {
      waiter = () => (queue.length > 0 ? resolve() : reject(gone ?? new DisconnectedError(description)));
    });
    return withDeadline(what, arrived, opts, () => {
      waiter = null;
    });
  };

  const link: StreamLink = {
    kind: 'stream',
    description,
    disconnected,
    get isClosed() {
      return gone !== null;
    },
    async read(opts = {}) {
      await waitForData(`reading from ${description}`, opts);
      return take(opts.maxBytes ?? Number.MAX_SAFE_INTEGER);
    },
    async readExactly(length, opts = {}) {
      const out = new Uint8Array(length);
      let filled = 0;
      while (filled < length) {
        await waitForData(`reading ${length} bytes from ${description}`, opts);
        const part = take(length - filled);
        out.set(part, filled);
        filled += part.byteLength;
      }
      return out;
    },
    async write(bytes, opts = {}) {
      // 'close' arrives a tick after a destroy; a tight write loop must not outrun it and "succeed".
      if (!gone && (stream.destroyed || !stream.writable)) markGone('the connection closed');
      if (gone) throw gone;
      // Sockets report backpressure above 16 KiB; waiting for a full drain at every 1 MiB chunk leaves the
      // kernel idle between chunks, so keep up to WRITE_AHEAD bytes queued (memory stays bounded).
      if (stream.write(bytes) || stream.writableLength < WRITE_AHEAD) return;
      // Backpressure: wait for drain, but never past the deadline or the disconnect.
      const ac = new AbortController();
      const drained = once(stream, 'drain', { signal: ac.signal }).then(() => undefined);
      await withDeadline(`writing to ${description}`, drained, { ...opts, gone: goneController.signal }, () =>
        ac.abort(),
      );
    },
    async writeReleased(bytes, opts = {}) {
      if (!gone && (stream.destroyed || !stream.writable)) markGone('the connection closed');
      if (gone) throw gone;
      // The write callback runs once the stream has handed every byte to the OS (or failed): from then on
      // the caller owns the buffer again, while the kernel's socket buffer keeps the link busy.
      const written = new Promise<void>((resolve, reject) =>
        stream.write(bytes, (err) =>
          err ? reject(gone ?? new DisconnectedError(description, { cause: err })) : resolve(),
        ),
      );
      written.catch(() => {});
      await withDeadline(`writing to ${description}`, written, { ...opts, gone: goneController.signal });
    },
    async close() {
      if (!stream.destroyed) {
        const closed = once(stream, 'close').catch(() => undefined);
        stream.destroy();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 2000).unref())]);
      }
      markGone('closed by Flashline');
    },
  };
  return link;
}
