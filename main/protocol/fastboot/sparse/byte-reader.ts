/**
 * Pull reader over a one-pass byte stream (`AsyncIterable<Uint8Array>` with chunks of any size). Large reads
 * come back as subarrays of the source's own chunks (no copies); only small fixed-size reads that straddle a
 * chunk boundary are copied. Hand-written because the decoder needs exact-length pulls with bounded
 * memory, which neither node:stream nor web streams offer on an arbitrary async iterable.
 */

const EMPTY = new Uint8Array(0);

/** Bytes as they come: a stream (Node Readable, web ReadableStream, async generator) or an in-memory list. */
export type ByteSource = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

function iterate(source: ByteSource): AsyncIterator<Uint8Array> | Iterator<Uint8Array> {
  return Symbol.asyncIterator in source ? source[Symbol.asyncIterator]() : source[Symbol.iterator]();
}

export class ByteReader {
  readonly #it: AsyncIterator<Uint8Array> | Iterator<Uint8Array>;
  readonly #signal: AbortSignal | undefined;
  #buf: Uint8Array = EMPTY;
  #pos = 0;
  #offset = 0;
  #done = false;

  constructor(source: ByteSource, signal?: AbortSignal) {
    this.#it = iterate(source);
    this.#signal = signal;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.#offset;
  }

  async #fill(): Promise<boolean> {
    while (this.#pos >= this.#buf.byteLength) {
      if (this.#done) return false;
      this.#signal?.throwIfAborted();
      const r = await this.#it.next();
      this.#signal?.throwIfAborted();
      if (r.done) {
        this.#done = true;
        this.#buf = EMPTY;
        this.#pos = 0;
        return false;
      }
      if (!(r.value instanceof Uint8Array))
        throw new TypeError('byte source yielded something other than bytes');
      this.#buf = r.value;
      this.#pos = 0;
    }
    return true;
  }

  /**
   * Read exactly `n` bytes (meant for headers: small n). Returns fewer only at end of input, so the caller
   * can report how much was there.
   */
  async readUpTo(n: number): Promise<Uint8Array> {
    if (!(await this.#fill())) return EMPTY;
    if (this.#buf.byteLength - this.#pos >= n) {
      const out = this.#buf.subarray(this.#pos, this.#pos + n);
      this.#pos += n;
      this.#offset += n;
      return out;
    }
    const out = new Uint8Array(n);
    let have = 0;
    while (have < n && (await this.#fill())) {
      const take = Math.min(n - have, this.#buf.byteLength - this.#pos);
      out.set(this.#buf.subarray(this.#pos, this.#pos + take), have);
      this.#pos += take;
      this.#offset += take;
      have += take;
    }
    return have === n ? out : out.subarray(0, have);
  }

  /**
   * Yield subarrays totalling up to `n` bytes; stops early only at end of input (the caller compares
   * `offset` to detect truncation). Each slice is valid until the next pull.
   */
  async *slices(n: number): AsyncGenerator<Uint8Array, void, undefined> {
    let left = n;
    while (left > 0 && (await this.#fill())) {
      const take = Math.min(left, this.#buf.byteLength - this.#pos);
      const out = this.#buf.subarray(this.#pos, this.#pos + take);
      this.#pos += take;
      this.#offset += take;
      left -= take;
      yield out;
    }
  }

  /** The next available bytes, at most `max` (one pull, no generator: for hot loops); undefined at the end. */
  async read(max: number): Promise<Uint8Array | undefined> {
    if (max <= 0 || !(await this.#fill())) return undefined;
    const take = Math.min(max, this.#buf.byteLength - this.#pos);
    const out = this.#buf.subarray(this.#pos, this.#pos + take);
    this.#pos += take;
    this.#offset += take;
    return out;
  }

  /** Discard up to `n` bytes; returns how many were discarded. */
  async skip(n: number): Promise<number> {
    let skipped = 0;
    for (;;) {
      const s = await this.read(n - skipped);
      if (!s) return skipped;
      skipped += s.byteLength;
    }
  }

  /** True when no byte is left. */
  async atEnd(): Promise<boolean> {
    return !(await this.#fill());
  }

  /** Release the underlying iterator early (e.g. after an error). */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#it.return?.();
  }
}
