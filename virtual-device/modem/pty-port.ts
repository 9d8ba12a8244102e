/**
 * One serial function of the virtual modem (its AT port or its DIAG port) on a pty pair. Like a USB CDC-ACM
 * port it is there until the device leaves (mode switch, stop); each host connection gets a fresh pair at
 * the same path (pty.ts: socat exits once the host hangs up), so identification and a later action can
 * open the port one after the other.
 */
import { closeServedPty, openServedPty, type ServedPty } from '../pty-port.js';

/** Bytes from the host in, bytes to write back out. */
export type PortHandler = (bytes: Uint8Array) => readonly Uint8Array[];

export class ModemPtyPort {
  #served: ServedPty | null = null;
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
    if (this.#closed || this.#served) return;
    const served = await openServedPty(this.dir);
    const { pair, port } = served;
    const handle = this.makeHandler();
    port.on('data', (chunk: Buffer) => {
      for (const reply of handle(new Uint8Array(chunk))) if (reply.byteLength > 0) port.write(reply);
    });
    this.#served = served;
    this.#hostPath = pair.hostPath;
    for (const w of this.#offerWaiters.splice(0)) w();
    // The host hung up: offer a fresh pair at the same path for the next host.
    void pair.exited.then(() =>
      this.#task(async () => {
        if (this.#served !== served) return;
        await this.#close(0);
        await this.#open();
      }),
    );
  }

  async #close(flushMs: number): Promise<void> {
    const served = this.#served;
    this.#served = null;
    await closeServedPty(served, flushMs);
  }
}
