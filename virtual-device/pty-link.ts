/**
 * The virtual device's pty link, as a USB-serial port behaves: it is gone while the device is down (or, on a
 * stock phone, in Android) and comes back at the same path; each host connection gets a fresh pair (see
 * pty.ts), so a host that hangs up mid-session never leaves the next host talking to a half-finished
 * session. The runner (runner.ts) decides when it is offered and what a session's end means.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { SerialPort } from 'serialport';
import { enableDirectSerialIo } from '../main/common/serial-direct-io.js';
import type { SessionEnd } from './fastboot-session.js';
import { openPtyPair, type PtyPair } from './pty.js';

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
  #pair: PtyPair | null = null;
  #hostPath: string | null = null;
  #port: SerialPort | null = null;
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
    if (this.#port || !this.owner.canOffer()) return;
    const pair = await openPtyPair(this.dir);
    let port: SerialPort;
    try {
      port = await openSerial(pair.devicePath);
    } catch (err) {
      await pair.close();
      throw err;
    }
    // The host hanging up shows as end of stream; errors after that must not crash the process.
    port.on('error', () => {});
    this.#pair = pair;
    this.#hostPath = pair.hostPath;
    this.#port = port;
    void this.#serve(port);
  }

  async #close(flushMs: number): Promise<void> {
    const port = this.#port;
    const pair = this.#pair;
    this.#port = null;
    this.#pair = null;
    if (port?.isOpen) {
      // The last reply (OKAY to a reboot) is still on its way; a host that is not reading gets 500 ms.
      await Promise.race([new Promise<void>((r) => port.drain(() => r())), sleep(500)]);
      await new Promise<void>((r) => port.close(() => r()));
    } else port?.destroy();
    await pair?.close(flushMs);
  }

  async #serve(port: SerialPort): Promise<void> {
    const end = await this.owner.serve(port);
    if (this.owner.ended(end, port === this.#port)) return;
    // The host hung up (or the session ended on a timeout or a protocol error, where TCP would drop the
    // socket): hang up our side too and offer a fresh port for the next host.
    void this.#task(async () => {
      if (port !== this.#port) return;
      await this.#close(0);
      await this.#open();
    });
  }
}

async function openSerial(path: string): Promise<SerialPort> {
  // Loaded on first use, like the host's serial transport: a device served over TCP or USB never needs the
  // native serial binding (and the USB VM's bundle cannot load it).
  const { SerialPort: Port } = await import('serialport');
  return new Promise((resolve, reject) => {
    const port = new Port({ path, baudRate: 115200, autoOpen: false });
    port.open((err) => {
      if (err) return reject(err);
      enableDirectSerialIo(port.port);
      resolve(port);
    });
  });
}
