/**
 * FunctionFS from Node: write descriptors and strings to ep0, watch ep0's events (bind/enable/disable/...),
 * and do bulk I/O on ep1 (OUT) and ep2 (IN) with plain read(2)/write(2) through node:fs.
 *
 * Each blocking read/write occupies a libuv threadpool thread until the host acts, so the process serving a
 * gadget should run with UV_THREADPOOL_SIZE raised (serve.ts sets it for its own child).
 */
import { EventEmitter } from 'node:events';
import { type FileHandle, open } from 'node:fs/promises';
import { join } from 'node:path';
import { decodeEvents, FFS_EVENT_SIZE, type FfsEvent } from './descriptors.js';

export class FfsIoError extends Error {
  constructor(
    message: string,
    readonly errno: string | undefined,
  ) {
    super(message);
    this.name = 'FfsIoError';
  }
}

export class FunctionFs extends EventEmitter<{ event: [FfsEvent]; closed: [] }> {
  #enabled = false;
  #closed = false;

  private constructor(
    readonly mount: string,
    private readonly ep0: FileHandle,
    private readonly epOut: FileHandle,
    private readonly epIn: FileHandle,
  ) {
    super();
  }

  /** Write descriptors + strings to `<mount>/ep0`, then open ep1 (OUT) and ep2 (IN). */
  static async open(mount: string, descriptors: Uint8Array, strings: Uint8Array): Promise<FunctionFs> {
    const ep0 = await open(join(mount, 'ep0'), 'r+');
    try {
      // Each blob must arrive in one write(2): FunctionFS parses per write.
      await ep0.write(descriptors, 0, descriptors.byteLength, null);
      await ep0.write(strings, 0, strings.byteLength, null);
      const epOut = await open(join(mount, 'ep1'), 'r');
      const epIn = await open(join(mount, 'ep2'), 'w');
      const ffs = new FunctionFs(mount, ep0, epOut, epIn);
      void ffs.#pumpEvents();
      return ffs;
    } catch (err) {
      await ep0.close().catch(() => {});
      throw err;
    }
  }

  get enabled(): boolean {
    return this.#enabled;
  }

  async #pumpEvents(): Promise<void> {
    const buf = Buffer.alloc(FFS_EVENT_SIZE * 4);
    while (!this.#closed) {
      let n: number;
      try {
        n = (await this.ep0.read(buf, 0, buf.length, null)).bytesRead;
      } catch {
        if (this.#closed) return;
        continue;
      }
      for (const ev of decodeEvents(buf.subarray(0, n))) {
        if (ev === 'enable') this.#enabled = true;
        if (ev === 'disable' || ev === 'unbind') this.#enabled = false;
        this.emit('event', ev);
      }
    }
  }

  /** Resolves once the host has configured the device (ENABLE), rejects after `timeoutMs`. */
  waitEnabled(timeoutMs: number): Promise<void> {
    if (this.#enabled) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.off('event', onEvent);
        reject(new Error(`the USB host did not enable the function within ${timeoutMs} ms`));
      }, timeoutMs);
      const onEvent = (ev: FfsEvent): void => {
        if (ev !== 'enable') return;
        clearTimeout(timer);
        this.off('event', onEvent);
        resolve();
      };
      this.on('event', onEvent);
    });
  }

  /**
   * One OUT transfer of at most `maxLength` bytes. A transfer ends at a short packet or when `maxLength` bytes
   * arrived, so during a data phase ask for exactly what is still due.
   * @throws FfsIoError when the link is down (unbound, disabled: ESHUTDOWN / EIO)
   */
  async readTransfer(maxLength: number): Promise<Buffer> {
    const buf = Buffer.allocUnsafe(maxLength);
    try {
      const { bytesRead } = await this.epOut.read(buf, 0, maxLength, null);
      return buf.subarray(0, bytesRead);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new FfsIoError(`ep1 read failed (${code ?? String(err)})`, code);
    }
  }

  /** One IN transfer. @throws FfsIoError when the link is down */
  async writeTransfer(bytes: Uint8Array): Promise<void> {
    try {
      const { bytesWritten } = await this.epIn.write(bytes, 0, bytes.byteLength, null);
      if (bytesWritten !== bytes.byteLength) {
        throw new FfsIoError(`ep2 short write ${bytesWritten}/${bytes.byteLength}`, undefined);
      }
    } catch (err) {
      if (err instanceof FfsIoError) throw err;
      const code = (err as NodeJS.ErrnoException).code;
      throw new FfsIoError(`ep2 write failed (${code ?? String(err)})`, code);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.allSettled([this.epOut.close(), this.epIn.close(), this.ep0.close()]);
    this.emit('closed');
  }
}
