/**
 * One serial function of the virtual modem (its AT port or its DIAG port) on a pty pair. Like a USB CDC-ACM
 * port it is there until the device leaves (mode switch, stop); each host connection gets a fresh pair at
 * the same path (pty.ts: socat exits once the host hangs up), so identification and a later action can
 * open the port one after the other.
 */
import type { SerialPort } from 'serialport';
import { enableDirectSerialIo } from '../../main/common/serial-direct-io.js';
import { openPtyPair, type PtyPair } from '../pty.js';

/** Bytes from the host in, bytes to write back out. */
export type PortHandler = (bytes: Uint8Array) => readonly Uint8Array[];

export class ModemPtyPort {
  #pair: PtyPair | null = null;
  #port: SerialPort | null = null;
  #hostPath: string | null = null;
  #closed = false;
  #tasks: Promise<void> = Promise.resolve();
  #offerWaiters: (() => void)[] = [];

  constructor(
    readonly dir: string,
    readonly makeHandler: () => PortHandler,
    readonly problem: (message: string) => void,
  ) {}

  get hostPath(): string | null {
    return this.#hostPath;
  }

  /**
   * Resolves when the next fresh pair is offered (after a host hung up). A host reopening sooner can catch
   * the old pair while socat winds it down (pty.ts); tests wait for this instead of sleeping.
   */
  nextOffer(): Promise<void> {
    return new Promise((resolve) => this.#offerWaiters.push(resolve));
  }

  open(): Promise<void> {
    return this.#task(() => this.#open());
  }

  /** Unplug: the host's open port is hung up and the path disappears. `flushMs` lets the last reply out. */
  close(flushMs = 0): Promise<void> {
    this.#closed = true;
    return this.#task(() => this.#close(flushMs));
  }

  #task(step: () => Promise<void>): Promise<void> {
    const next = this.#tasks.then(step);
    this.#tasks = next.catch((err: unknown) =>
      this.problem(err instanceof Error ? err.message : String(err)),
    );
    return next;
  }

  async #open(): Promise<void> {
    if (this.#closed || this.#port) return;
    const pair = await openPtyPair(this.dir);
    const { SerialPort: Port } = await import('serialport');
    const port = await new Promise<SerialPort>((resolve, reject) => {
      const p = new Port({ path: pair.devicePath, baudRate: 115200, autoOpen: false });
      p.open((err) => (err ? reject(err) : resolve(p)));
    }).catch(async (err: unknown) => {
      await pair.close();
      throw err;
    });
    enableDirectSerialIo(port.port);
    port.on('error', () => {});
    const handle = this.makeHandler();
    port.on('data', (chunk: Buffer) => {
      for (const reply of handle(new Uint8Array(chunk))) if (reply.byteLength > 0) port.write(reply);
    });
    this.#pair = pair;
    this.#port = port;
    this.#hostPath = pair.hostPath;
    for (const w of this.#offerWaiters.splice(0)) w();
    // The host hung up: offer a fresh pair at the same path for the next host.
    void pair.exited.then(() =>
      this.#task(async () => {
        if (this.#pair !== pair) return;
        await this.#close(0);
        await this.#open();
      }),
    );
  }

  async #close(flushMs: number): Promise<void> {
    const port = this.#port;
    const pair = this.#pair;
    this.#port = null;
    this.#pair = null;
    if (port?.isOpen) {
      await new Promise<void>((r) => port.drain(() => r()));
      await new Promise<void>((r) => port.close(() => r()));
    }
    await pair?.close(flushMs);
  }
}
