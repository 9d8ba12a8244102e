/**
 * One ADB stream (protocol.txt "OPEN", "READY", "WRITE", "CLOSE"): opened with OPEN(local, 0, service),
 * ready when the device answers OKAY(remote, local), refused when it answers CLSE. Classic flow control:
 * after each WRTE we wait for the peer's OKAY before the next (no "delayed_ack" feature). Incoming WRTEs are
 * acknowledged by the connection as they arrive; the consumer bounds what it keeps.
 */
import { AdbServiceError } from './contract.js';
import type { AdbMessage } from './wire.js';

export interface StreamSender {
  readonly description: string;
  readonly maxPayload: number;
  send(msg: AdbMessage): Promise<void>;
  forget(localId: number): void;
}

export class AdbStream {
  remoteId = 0;
  readonly opened: Promise<void>;
  #resolveOpened!: () => void;
  #rejectOpened!: (err: Error) => void;
  #isOpen = false;
  /** Chunks received and not yet read; null marks the peer's CLSE. */
  readonly #incoming: (Uint8Array | null)[] = [];
  #wake: (() => void) | null = null;
  #failure: Error | null = null;
  #ack: (() => void) | null = null;
  #closedLocally = false;
  #closedByPeer = false;

  constructor(
    readonly localId: number,
    readonly service: string,
    private readonly sender: StreamSender,
  ) {
    this.opened = new Promise<void>((resolve, reject) => {
      this.#resolveOpened = resolve;
      this.#rejectOpened = reject;
    });
    // Callers that never await `opened` (a cancelled call) must not leave an unhandled rejection.
    this.opened.catch(() => {});
  }

  /** OKAY from the device: the stream is open, or our last WRTE was taken. */
  onOkay(remoteId: number): void {
    if (!this.#isOpen) {
      this.#isOpen = true;
      this.remoteId = remoteId;
      this.#resolveOpened();
      return;
    }
    const ack = this.#ack;
    this.#ack = null;
    ack?.();
  }

  onData(bytes: Uint8Array): void {
    this.#incoming.push(bytes);
    this.#notify();
  }

  /** CLSE from the device: refusal of the OPEN, or the end of the stream. */
  onClose(): void {
    this.sender.forget(this.localId);
    this.#closedByPeer = true;
    if (!this.#isOpen) {
      this.#rejectOpened(
        new AdbServiceError(this.service, `${this.sender.description} refused the service '${this.service}'`),
      );
    }
    this.#incoming.push(null);
    this.#notify();
    this.#ack?.();
  }

  /** The link failed or the call was cancelled: every wait ends with `err`. */
  fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    this.sender.forget(this.localId);
    this.#rejectOpened(err);
    this.#notify();
    this.#ack?.();
  }

  #notify(): void {
    const w = this.#wake;
    this.#wake = null;
    w?.();
  }

  /** The next chunk from the device, or null once it closed the stream. */
  async read(): Promise<Uint8Array | null> {
    for (;;) {
      if (this.#incoming.length > 0) return this.#incoming.shift() ?? null;
      if (this.#failure) throw this.#failure;
      await new Promise<void>((resolve) => {
        this.#wake = resolve;
      });
    }
  }

  /** Send bytes in WRTEs of at most the agreed payload, one in flight until its OKAY. */
  async write(bytes: Uint8Array): Promise<void> {
    await this.opened;
    for (let offset = 0; offset < bytes.byteLength || offset === 0; ) {
      if (this.#failure) throw this.#failure;
      if (this.#closedByPeer) {
        throw new AdbServiceError(this.service, `${this.sender.description} closed '${this.service}'`);
      }
      const part = bytes.subarray(offset, offset + this.sender.maxPayload);
      const acked = new Promise<void>((resolve) => {
        this.#ack = resolve;
      });
      await this.sender.send({ command: 'WRTE', arg0: this.localId, arg1: this.remoteId, payload: part });
      await acked;
      offset += Math.max(part.byteLength, 1);
    }
    if (this.#failure) throw this.#failure;
  }

  /** Tell the device we are done (CLSE); idempotent, never throws. */
  async close(): Promise<void> {
    if (this.#closedLocally) return;
    this.#closedLocally = true;
    this.sender.forget(this.localId);
    // Also after a cancelled call (timeout, abort): the device must stop sending on this stream.
    if (this.#isOpen && !this.#closedByPeer) {
      await this.sender
        .send({ command: 'CLSE', arg0: this.localId, arg1: this.remoteId, payload: new Uint8Array(0) })
        .catch(() => {});
    }
  }
}
