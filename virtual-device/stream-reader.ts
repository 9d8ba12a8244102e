/**
 * Pull-style reading from a Node Readable without owning it: a session can stop reading and hand the same
 * stream (e.g. a pty that outlives a reboot) to the next session. Async iteration would destroy the stream
 * when the loop exits, which is why this small reader exists. Backpressure is natural: nothing is read
 * from the stream until the session asks for it.
 */
import type { Readable } from 'node:stream';

export class ReadTimeoutError extends Error {
  constructor(ms: number) {
    super(`no data from the host for ${ms} ms`);
    this.name = 'ReadTimeoutError';
  }
}

export class StreamReader {
  #ended = false;
  #detached = false;
  #error: Error | null = null;
  #wake: (() => void) | null = null;
  readonly #onReadable = () => this.#notify();
  readonly #onEnd = () => {
    this.#ended = true;
    this.#notify();
  };
  readonly #onError = (err: Error) => {
    this.#error = err;
    this.#notify();
  };

  constructor(private readonly stream: Readable) {
    stream.on('readable', this.#onReadable);
    stream.on('end', this.#onEnd);
    stream.on('close', this.#onEnd);
    stream.on('error', this.#onError);
    if (stream.readableEnded || stream.destroyed) this.#ended = true;
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = null;
    wake?.();
  }

  /** Next chunk, or null at end of stream / after an error. Rejects with ReadTimeoutError after `timeoutMs`. */
  async read(timeoutMs: number): Promise<Buffer | null> {
    for (;;) {
      if (this.#detached) return null;
      const chunk = this.stream.destroyed ? null : (this.stream.read() as Buffer | string | null);
      if (chunk !== null) return typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
      if (this.#ended || this.#error || this.stream.destroyed) return null;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          this.#wake = null;
          reject(new ReadTimeoutError(timeoutMs));
        }, timeoutMs);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Stop listening; the stream stays open for its owner. */
  detach(): void {
    this.#detached = true;
    this.stream.off('readable', this.#onReadable);
    this.stream.off('end', this.#onEnd);
    this.stream.off('close', this.#onEnd);
    this.stream.off('error', this.#onError);
    this.#notify();
  }
}
