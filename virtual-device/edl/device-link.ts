/**
 * The device's end of an EDL byte stream (a TCP socket or the pty's serial port), with the calls the Sahara
 * and Firehose sides use. virtual-device/ does not use the host's transports (dependency rule), so this is
 * a small pull reader (../stream-reader.ts) plus bounded writes.
 */
import { once } from 'node:events';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { StreamReader } from '../stream-reader.js';

export class HostGoneError extends Error {
  constructor() {
    super('the host hung up');
    this.name = 'HostGoneError';
  }
}

interface Io {
  readonly timeoutMs?: number;
  readonly maxBytes?: number;
}

const DEFAULT_MS = 120_000;

export class DeviceLink {
  readonly #reader: StreamReader;
  #pending: Buffer = Buffer.alloc(0);

  constructor(readonly stream: Duplex) {
    this.#reader = new StreamReader(stream);
  }

  async #fill(opts: Io): Promise<void> {
    const chunk = await this.#reader.read(opts.timeoutMs ?? DEFAULT_MS);
    if (chunk === null) throw new HostGoneError();
    this.#pending = this.#pending.byteLength === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
  }

  async read(opts: Io = {}): Promise<Uint8Array> {
    if (this.#pending.byteLength === 0) await this.#fill(opts);
    const n = Math.min(opts.maxBytes ?? this.#pending.byteLength, this.#pending.byteLength);
    const out = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(n);
    return out;
  }

  async readExactly(length: number, opts: Io = {}): Promise<Uint8Array> {
    while (this.#pending.byteLength < length) await this.#fill(opts);
    const out = this.#pending.subarray(0, length);
    this.#pending = this.#pending.subarray(length);
    return out;
  }

  async write(bytes: Uint8Array, opts: Io = {}): Promise<void> {
    if (this.stream.destroyed || !this.stream.writable) throw new HostGoneError();
    if (this.stream.write(bytes)) return;
    const ac = new AbortController();
    try {
      await Promise.race([
        once(this.stream, 'drain', { signal: ac.signal }),
        once(this.stream, 'close', { signal: ac.signal }).then(() => {
          throw new HostGoneError();
        }),
        sleep(opts.timeoutMs ?? DEFAULT_MS, undefined, { signal: ac.signal }).then(() => {
          throw new Error('the host stopped reading');
        }),
      ]);
    } finally {
      ac.abort();
    }
  }

  async close(): Promise<void> {
    this.#reader.detach();
    if (!this.stream.destroyed) {
      const closed = once(this.stream, 'close').catch(() => undefined);
      this.stream.destroy();
      await Promise.race([closed, sleep(2000)]);
    }
  }
}
