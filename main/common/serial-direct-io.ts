/**
 * Faster reads and writes for serialport's POSIX bindings (Linux, macOS). Those bindings open the tty
 * non-blocking (O_NONBLOCK) yet run every read and write on libuv's thread pool; a tty hands over at most
 * ~4 KiB per call, so a 1 GiB image costs ~250 000 thread-pool round trips, and over a pty pair that, not
 * the link, was the limit (bench `serial`: 9–12 MB/s where the pair carries ~30 MB/s). On a non-blocking fd
 * a synchronous read or write returns at once (data, or EAGAIN), so here they run on the event loop and only
 * the wait for "readable"/"writable" goes through the binding's own poller. Everything else (open with its
 * termios settings and lock, close, drain, flush, modem lines) stays serialport's.
 *
 * Used by the host transport and by the virtual device, which is why it lives below both. Written by hand:
 * serialport offers no option for this, and it is a few lines over its documented binding interface.
 */
import { readSync, writeSync } from 'node:fs';

/** The parts of a POSIX serialport binding (LinuxPortBinding, DarwinPortBinding) this relies on. */
export interface PosixSerialBinding {
  fd: number | null;
  readonly isOpen: boolean;
  writeOperation: Promise<void> | null;
  readonly poller: {
    poll(events: number): void;
    addListener(event: PollEvent, listener: (err: Error | null) => void): unknown;
    removeListener(event: PollEvent, listener: (err: Error | null) => void): unknown;
  };
  read(buffer: Buffer, offset: number, length: number): Promise<{ bytesRead: number; buffer: Buffer }>;
  write(buffer: Buffer): Promise<void>;
}

type PollEvent = 'readable' | 'writable';
/** The binding's poller flags (UV_READABLE, UV_WRITABLE). */
const POLL_FLAGS: Record<PollEvent, number> = { readable: 0b01, writable: 0b10 };

const TRY_AGAIN = new Set(['EAGAIN', 'EWOULDBLOCK', 'EINTR']);
/** Reads in a row without giving the event loop a turn (timers and other sockets must not starve). */
const READ_BURST = 16;

function isPosixBinding(binding: unknown): binding is PosixSerialBinding {
  const b = binding as Partial<PosixSerialBinding> | null | undefined;
  return (
    typeof b?.fd === 'number' &&
    typeof b.poller?.poll === 'function' &&
    typeof b.poller.addListener === 'function' &&
    'writeOperation' in (b ?? {})
  );
}

function canceled(): Error {
  // serialport's stream treats `canceled` errors as "closed on purpose", not as a disconnect.
  return Object.assign(new Error('Port is not open'), { canceled: true });
}

/**
 * Wait until the fd is readable or writable. The binding's native poller registers only the flags of its
 * latest poll() call, so a reader and a writer waiting at once would drop each other's wake-up (the hang
 * this module first ran into); every wait therefore registers what all current waiters need.
 */
function waiter(binding: PosixSerialBinding): (event: PollEvent) => Promise<void> {
  const waiting: Record<PollEvent, number> = { readable: 0, writable: 0 };
  return (event) =>
    new Promise((resolve, reject) => {
      const done = (err: Error | null) => {
        binding.poller.removeListener(event, done);
        waiting[event]--;
        if (err) reject(err);
        else resolve();
      };
      waiting[event]++;
      binding.poller.addListener(event, done);
      binding.poller.poll(
        (waiting.readable > 0 ? POLL_FLAGS.readable : 0) | (waiting.writable > 0 ? POLL_FLAGS.writable : 0),
      );
    });
}

function disconnectOrThrow(err: unknown): void {
  const code = (err as NodeJS.ErrnoException).code;
  if (code !== undefined && TRY_AGAIN.has(code)) return;
  if (code === 'EBADF' || code === 'ENXIO' || code === 'EIO')
    Object.assign(err as object, { disconnect: true });
  throw err;
}

/** Switch an open POSIX binding to direct I/O; returns false (and changes nothing) for other bindings. */
export function enableDirectSerialIo(binding: unknown): boolean {
  if (!isPosixBinding(binding)) return false;
  const ready = waiter(binding);
  let burst = 0;
  binding.read = async (buffer, offset, length) => {
    if (++burst > READ_BURST) {
      burst = 0;
      await new Promise((r) => setImmediate(r));
    }
    for (;;) {
      if (!binding.isOpen || binding.fd === null) throw canceled();
      try {
        // 0 bytes from a non-blocking tty is a hang-up: the stream ends (serialport pushes null).
        return { bytesRead: readSync(binding.fd, buffer, offset, length, null), buffer };
      } catch (err) {
        disconnectOrThrow(err);
      }
      burst = 0;
      await ready('readable');
    }
  };
  binding.write = (buffer) => {
    const operation = (async () => {
      let offset = 0;
      while (offset < buffer.length) {
        if (!binding.isOpen || binding.fd === null) throw new Error('Port is not open');
        try {
          offset += writeSync(binding.fd, buffer, offset, buffer.length - offset);
          continue;
        } catch (err) {
          disconnectOrThrow(err);
        }
        await ready('writable');
      }
    })();
    // drain() waits for the write in flight, as with the binding's own write.
    binding.writeOperation = operation.then(
      () => undefined,
      () => undefined,
    );
    return operation;
  };
  return true;
}
