/**
 * The virtual device's pty link, as a USB-serial port behaves: it is gone while the device is down (or, on a
 * stock phone, in Android) and comes back at the same path; each host connection gets a fresh pair (see
 * pty.ts), so a host that hangs up mid-session never leaves the next host talking to a half-finished
 * session. The runner (runner.ts) decides when it is offered and what a session's end means.
 */
import type { SerialPort } from 'serialport';
import type { SessionEnd } from './fastboot-session.js';
import { closeServedPty, openServedPty, type ServedPty } from './pty-port.js';

export interface PtyLinkOwner {
  /** Whether a pair may be offered now (device up and offering fastboot). */
  canOffer(): boolean;
  /** Serve one fastboot session on the port. */
  serve(port: SerialPort): Promise<SessionEnd>;
  /**
   * A session ended (`current`: on the pair still offered). Return true when the owner takes it from here
   * (reboot, stop); false to hang up and offer a fresh pair to the next host.
   */
  ended(end: SessionEnd, current: boolean): boolean;
  problem(message: string): void;
}

export class PtyLink {
  #served: ServedPty | null = null;
  #hostPath: string | null = null;
  /** Open/close steps run one after another (a hang-up and a reboot may ask at the same moment). */
  #tasks: Promise<void> = Promise.resolve();

  constructor(
    readonly dir: string,
    readonly owner: PtyLinkOwner,
  ) {}

  /** The path a host opens; the same path across reboots (null before the first pair). */
  get hostPath(): string | null {
    return this.#hostPath;
  }

  /** Offer a fresh pair (no-op when one is offered or the owner says not now). */
  open(): Promise<void> {
    return this.#task(() => this.#open());
  }

  /** `flushMs`: let the last reply reach the host first (a reboot's OKAY); see PtyPair.close. */
  close(flushMs = 0): Promise<void> {
    return this.#task(() => this.#close(flushMs));
  }

  /** Run steps in order; a failed step is reported, never left as an unhandled rejection. */
  #task(step: () => Promise<void>): Promise<void> {
    const next = this.#tasks.then(step);
    this.#tasks = next.catch((err: unknown) => {
      this.owner.problem(`the pty could not be served (${err instanceof Error ? err.message : String(err)})`);
    });
    return next;
  }

  async #open(): Promise<void> {
    if (this.#served || !this.owner.canOffer()) return;
    const served = await openServedPty(this.dir);
    this.#served = served;
    this.#hostPath = served.pair.hostPath;
    void this.#serve(served.port);
  }

  async #close(flushMs: number): Promise<void> {
    const served = this.#served;
    this.#served = null;
    // The last reply (OKAY to a reboot) is still on its way; closeServedPty bounds the wait.
    await closeServedPty(served, flushMs);
  }

  async #serve(port: SerialPort): Promise<void> {
    const end = await this.owner.serve(port);
    if (this.owner.ended(end, port === this.#served?.port)) return;
    // The host hung up (or the session ended on a timeout or a protocol error, where TCP would drop the
    // socket): hang up our side too and offer a fresh port for the next host.
    void this.#task(async () => {
      if (port !== this.#served?.port) return;
      await this.#close(0);
      await this.#open();
    });
  }
}
