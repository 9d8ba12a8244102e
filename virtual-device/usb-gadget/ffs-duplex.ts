/**
 * The Duplex over a FunctionFS function's two bulk endpoints that the byte-level device sides take (ADB's
 * serveAdb, the EDL device's DeviceLink). Subclasses decide how OUT transfers become stream data (`pump`) and
 * how writes become IN transfers (`_write` through `finishWrite`); this base keeps what they share: one pump at
 * a time, reads that end the stream when the function goes down (a cable pull), and teardown.
 */
import { Duplex } from 'node:stream';
import { FfsIoError, type FunctionFs } from './functionfs.js';

export abstract class FfsDuplex extends Duplex {
  #pumping = false;
  #stopped = false;
  /** Set when a transfer failed because the function went down (unbind, disable): a cable pull. */
  linkDown = false;

  constructor(
    readonly ffs: FunctionFs,
    readonly debug: (msg: string) => void,
  ) {
    super();
  }

  /** Read OUT transfers and push them until the session ends or (returning) the reader wants no more. */
  protected abstract pump(): Promise<void>;

  protected get stopped(): boolean {
    return this.#stopped;
  }

  override _read(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    void this.pump().finally(() => {
      this.#pumping = false;
    });
  }

  /** One OUT transfer of up to `length` bytes; null once the session is over or the function went down. */
  protected async transfer(length: number): Promise<Buffer | null> {
    try {
      const got = await this.ffs.readTransfer(length);
      return this.#stopped ? null : got;
    } catch (err) {
      if (!(err instanceof FfsIoError)) throw err;
      this.debug(`link down: ${err.message}`);
      if (!this.#stopped) {
        this.linkDown = true;
        this.destroy();
      }
      return null;
    }
  }

  /** Complete a write when its IN transfers are done; a failed transfer is a cable pull. */
  protected finishWrite(work: Promise<unknown>, done: (err?: Error | null) => void): void {
    work.then(
      () => done(),
      (err: unknown) => {
        if (err instanceof FfsIoError) this.linkDown = true;
        done(err instanceof Error ? err : new Error(String(err)));
      },
    );
  }

  override _final(done: (err?: Error | null) => void): void {
    done();
  }

  override _destroy(err: Error | null, done: (err?: Error | null) => void): void {
    // A read or write still queued in the kernel stays there until the owner unbinds the gadget.
    this.#stopped = true;
    done(err);
  }
}
