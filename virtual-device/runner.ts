/**
 * One running virtual device: the model plus its links (TCP listener, pty, in-process), and its life cycle:
 * reboot (links drop, the device boots after a short delay, then listens again at the same address) and
 * power loss (links drop, unsynced state is discarded, the device reloads its state directory and boots).
 */
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { SerialPort } from 'serialport';
import { FlashlineError } from '../main/common/errors.js';
import type { VirtualDevice } from './device.js';
import { type SessionEnd, type SessionOptions, serveFastboot } from './fastboot-session.js';
import { PowerCutError } from './faults.js';
import { createDuplexPair } from './in-process.js';
import { openPtyPair, type PtyPair } from './pty.js';

export interface RunnerOptions {
  readonly tcp: { readonly host: string; readonly port: number } | false;
  readonly pty: boolean;
  readonly bootDelayMs: number;
  readonly session?: Omit<SessionOptions, 'signal'>;
  /** Remove the state directory on stop (it was a temp dir we made). */
  readonly removeStateOnStop: boolean;
}

type Boot = () => Promise<void>;

export class VirtualDeviceHandle extends EventEmitter<{
  up: [];
  down: [reason: string];
  session: [SessionEnd];
}> {
  #server: Server | null = null;
  #port = 0;
  #pty: PtyPair | null = null;
  #serial: SerialPort | null = null;
  #links = new Set<Duplex>();
  #power = new AbortController();
  #up = false;
  #cycle: Promise<void> = Promise.resolve();
  #restarting = false;
  #stopped = false;
  #ptyLoop: Promise<void> = Promise.resolve();

  constructor(
    readonly device: VirtualDevice,
    readonly options: RunnerOptions,
  ) {
    super();
    device.on('power-cut', () => {
      if (!this.#restarting) void this.#restart('power-cut', () => device.powerOn('os'));
    });
  }

  get serial(): string {
    return this.device.serial;
  }
  get stateDir(): string {
    return this.device.store.dir;
  }
  get host(): string {
    return this.options.tcp ? this.options.tcp.host : '';
  }
  /** The TCP port (fixed across reboots), 0 without TCP. */
  get port(): number {
    return this.#port;
  }
  /** `tcp:HOST:PORT` (what `fastboot -s` takes), else `serial:PTY`. */
  get address(): string {
    if (this.options.tcp)
      return `tcp:${this.host.includes(':') ? `[${this.host}]` : this.host}:${this.#port}`;
    return `serial:${this.#pty?.hostPath ?? ''}`;
  }
  /** The pty path a host opens (only with the pty link). */
  get ptyPath(): string | null {
    return this.#pty?.hostPath ?? null;
  }
  get isUp(): boolean {
    return this.#up;
  }

  async start(): Promise<void> {
    await this.device.exclusive(() => this.device.powerOn('os'));
    if (this.options.tcp) await this.#listen();
    if (this.options.pty) {
      this.#pty = await openPtyPair(this.stateDir);
      this.#serial = await openSerial(this.#pty.devicePath);
      // Between sessions nobody else listens: a pty error must not crash the process (the loop ends instead).
      this.#serial.on('error', () => {});
      this.#ptyLoop = this.#servePty(this.#serial);
    }
    this.#up = true;
    this.emit('up');
  }

  /** Resolves once the device is booted and reachable (immediately when it is). */
  whenUp(): Promise<void> {
    return this.#cycle;
  }

  /** An in-process link to the device (fastboot with the TCP framing). Throws while the device is down. */
  connect(): Duplex {
    if (!this.#up)
      throw new FlashlineError('disconnected', 'the virtual device is rebooting; wait for whenUp()');
    const [host, dev] = createDuplexPair();
    this.#serveLink(dev);
    return host;
  }

  /** Cut the power now; resolves when the device is back (reloaded from its state directory and booted). */
  powerCut(): Promise<void> {
    this.device.powerOff();
    return this.#restart('power-cut', () => this.device.powerOn('os'));
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#up = false;
    await this.#cycle.catch(() => {});
    this.#dropLinks();
    await this.#closeServer();
    this.#power.abort();
    if (this.#serial?.isOpen) await new Promise<void>((r) => this.#serial?.close(() => r()));
    await this.#ptyLoop;
    await this.#pty?.close();
    this.device.powerOff();
    if (this.options.removeStateOnStop) await fs.rm(this.stateDir, { recursive: true, force: true });
  }

  async #listen(): Promise<void> {
    const tcp = this.options.tcp;
    if (!tcp) return;
    const server = createServer((socket) => this.#serveLink(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: tcp.host, port: this.#port || tcp.port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    if (addr && typeof addr === 'object') this.#port = addr.port;
    this.#server = server;
  }

  async #closeServer(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server) await new Promise<void>((r) => server.close(() => r()));
  }

  #serveLink(link: Duplex): void {
    if (!this.#up || this.#stopped) {
      link.destroy();
      return;
    }
    (link as Socket).setNoDelay?.(true);
    this.#links.add(link);
    link.on('close', () => this.#links.delete(link));
    const signal = this.#power.signal;
    void serveFastboot(link, this.device, { ...this.options.session, signal }).then((end) => {
      link.destroy();
      this.#afterSession(end);
    });
  }

  #afterSession(end: SessionEnd): void {
    this.emit('session', end);
    if (end.reason === 'reboot' && !this.#stopped) {
      const into = end.into;
      void this.#restart('reboot', () => this.device.reboot(into));
    }
  }

  async #servePty(port: SerialPort): Promise<void> {
    while (!this.#stopped && port.isOpen) {
      await this.#cycle.catch(() => {});
      if (this.#stopped) return;
      // Bytes that arrived while the device was down went nowhere, as on a real UART.
      while (port.read() !== null) {}
      const end = await serveFastboot(port, this.device, {
        ...this.options.session,
        signal: this.#power.signal,
      });
      this.emit('session', end);
      if (end.reason === 'reboot') await this.#restart('reboot', () => this.device.reboot(end.into));
      else if (end.reason === 'closed' && !this.#restarting) await sleep(50);
    }
  }

  #dropLinks(): void {
    for (const link of this.#links) link.destroy();
    this.#links.clear();
  }

  /** Links drop, the device is down for bootDelayMs, boots, and comes back at the same address. */
  #restart(why: string, boot: Boot): Promise<void> {
    if (this.#restarting || this.#stopped) return this.#cycle;
    this.#restarting = true;
    this.#up = false;
    this.emit('down', why);
    this.#power.abort();
    this.#power = new AbortController();
    this.#dropLinks();
    this.#cycle = (async () => {
      try {
        await this.#closeServer();
        let next = boot;
        for (let attempt = 0; attempt < 10 && !this.#stopped; attempt++) {
          await sleep(this.options.bootDelayMs);
          try {
            await this.device.exclusive(next);
            break;
          } catch (err) {
            // Power lost during the boot itself: the next power-on starts from the state directory.
            if (!(err instanceof PowerCutError)) throw err;
            next = () => this.device.powerOn('os');
          }
        }
        if (this.#stopped) return;
        await this.#listen();
        this.#up = true;
        this.emit('up');
      } finally {
        this.#restarting = false;
      }
    })();
    return this.#cycle;
  }
}

async function openSerial(path: string): Promise<SerialPort> {
  return new Promise((resolve, reject) => {
    const port = new SerialPort({ path, baudRate: 115200, autoOpen: false });
    port.open((err) => (err ? reject(err) : resolve(port)));
  });
}
