/**
 * The download buffer: bounded by max-download-size and backed by a file in the state directory so memory
 * does not grow with the image. Data is staged in a 4 MiB buffer and written in large writes. No hash here:
 * sparse pieces do not need one, and a raw flash hashes the bytes as it copies them (partition-io.ts).
 */
import { promises as fs } from 'node:fs';

const STAGE_BYTES = 4 * 1024 * 1024;

export interface DownloadedImage {
  readonly path: string;
  readonly size: number;
}

/** Where a download's data goes: the buffer file below, or the sink profile's counter (sink.ts). */
export interface DownloadTarget {
  readonly size: number;
  readonly received: number;
  write(chunk: Uint8Array): Promise<void>;
  finish(): Promise<DownloadedImage>;
  close(): Promise<void>;
}

export class DownloadSink implements DownloadTarget {
  readonly #stage = Buffer.allocUnsafe(STAGE_BYTES);
  #staged = 0;
  #written = 0;
  #received = 0;
  #closed = false;

  private constructor(
    readonly path: string,
    readonly size: number,
    private readonly handle: fs.FileHandle,
  ) {}

  static async open(path: string, size: number): Promise<DownloadSink> {
    return new DownloadSink(path, size, await fs.open(path, 'w'));
  }

  get received(): number {
    return this.#received;
  }

  async write(chunk: Uint8Array): Promise<void> {
    if (this.#received + chunk.byteLength > this.size) {
      throw new RangeError(`download overflows: ${this.#received + chunk.byteLength} of ${this.size} bytes`);
    }
    this.#received += chunk.byteLength;
    let offset = 0;
    while (offset < chunk.byteLength) {
      const take = Math.min(STAGE_BYTES - this.#staged, chunk.byteLength - offset);
      this.#stage.set(chunk.subarray(offset, offset + take), this.#staged);
      this.#staged += take;
      offset += take;
      if (this.#staged === STAGE_BYTES) await this.#flush();
    }
  }

  async #flush(): Promise<void> {
    if (this.#staged === 0) return;
    await this.handle.write(this.#stage, 0, this.#staged, this.#written);
    this.#written += this.#staged;
    this.#staged = 0;
  }

  async finish(): Promise<DownloadedImage> {
    if (this.#received !== this.size)
      throw new RangeError(`download incomplete: ${this.#received}/${this.size}`);
    await this.#flush();
    await this.close();
    return { path: this.path, size: this.size };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.handle.close();
  }
}
