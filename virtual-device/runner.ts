/**
 * One running virtual device: the model plus its links (TCP listener, pty, in-process), and its life cycle:
 * reboot (links drop, the device boots after a short delay, then listens again at the same address) and
 * power loss (links drop, unsynced state is discarded, the device reloads its state directory and boots).
 * The pty behaves like a USB-serial port: it is gone while the device is down and comes back at the same
 * path after boot; each host connection gets a fresh pair (see pty.ts), so a host that hangs up mid-session
 * never leaves the next host talking to a half-finished session.
 */
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SerialPort } from 'serialport';
import { FlashlineError } from '../main/common/errors.js';
import { enableDirectSerialIo } from '../main/common/serial-direct-io.js';
import type { AdbSessionEnd } from './adb/device-handler.js';
import { loadServeAdb } from './adb-server.js';
import { AndroidSide, rebootInto } from './android-side.js';
import type { VirtualDevice } from './device.js';
import { type SessionEnd, type SessionOptions, serveFastboot } from './fastboot-session.js';
import { PowerCutError } from './faults.js';
import { createDuplexPair } from './in-process.js';
import { type AndroidTimings, type DeviceProfile, linksIn } from './profiles.js';
import { openPtyPair, type PtyPair } from './pty.js';
import { TcpListener } from './tcp-listener.js';

export interface RunnerOptions {
  readonly tcp: { readonly host: string; readonly port: number } | false;
  /** stock-android: the ADB listener (port 0 = any free port, kept across reboots); false for none. */
  readonly adb: { readonly host: string; readonly port: number } | false;
  /** stock-android: accepted host keys (undefined = any). */
  readonly adbAuthorizedKeys?: readonly string[];
  readonly android: AndroidTimings;
  readonly pty: boolean;
  readonly bootDelayMs: number;
  readonly session?: Omit<SessionOptions, 'signal'>;
  /** Remove the state directory on stop (it was a temp dir we made). */
  readonly removeStateOnStop: boolean;
}

type Boot = () => Promise<void>;

/** How long a rebooting device's last reply may take to cross the pty before the pair is torn down. */
const PTY_FLUSH_MS = 500;

export class VirtualDeviceHandle extends EventEmitter<{
  up: [];
  down: [reason: string];
  session: [SessionEnd];
  'adb-session': [AdbSessionEnd];
  /** Something went wrong that a person running the device should see (it keeps running). */
  problem: [message: string];
}> {
  readonly #fastboot: TcpListener | null;
  readonly #adb: TcpListener | null;
  /** The simulated Android (stock-android only). */
  readonly android: AndroidSide | null;
  #pty: PtyPair | null = null;
  #ptyHostPath: string | null = null;
  #serial: SerialPort | null = null;
  /** pty open/close steps run one after another (a hang-up and a reboot may ask at the same moment). */
  #ptyTasks: Promise<void> = Promise.resolve();
  #links = new Set<Duplex>();
  #power = new AbortController();
  #up = false;
  #cycle: Promise<void> = Promise.resolve();
  #restarting = false;
  #stopped = false;

  constructor(
    readonly device: VirtualDevice,
    readonly options: RunnerOptions,
  ) {
    super();
    const { tcp, adb } = options;
    this.#fastboot = tcp ? new TcpListener(tcp.host, tcp.port, (s) => this.#serveLink(s)) : null;
    this.#adb = adb ? new TcpListener(adb.host, adb.port, (s) => this.#serveAdbLink(s)) : null;
    this.android =
      device.config.profile === 'stock-android'
        ? new AndroidSide(device, options.android, (m) => this.emit('problem', m))
        : null;
    device.on('power-cut', () => {
      if (!this.#restarting) void this.#restart('power-cut', () => device.powerOn('os'));
    });
  }

  get serial(): string {
    return this.device.serial;
  }
  get profile(): DeviceProfile {
    return this.device.config.profile;
  }
  /** The ADB TCP port (fixed across reboots), 0 without ADB. */
  get adbPort(): number {
    return this.#adb?.port ?? 0;
  }
  /** `adb:HOST:PORT` (stock-android; it answers while the phone runs Android), else null. */
  get adbAddress(): string | null {
    return this.#adb ? `adb:${this.#adb.hostPort}` : null;
  }
  get stateDir(): string {
    return this.device.store.dir;
  }
  get host(): string {
    return this.options.tcp ? this.options.tcp.host : '';
  }
  /** The fastboot TCP port (fixed across reboots), 0 without TCP. */
  get port(): number {
    return this.#fastboot?.port ?? 0;
  }
  /**
   * `tcp:HOST:PORT` (what `fastboot -s` takes), else `serial:PTY`. A stock phone listens there only in the
   * bootloader.
   */
  get address(): string {
    if (this.#fastboot) return `tcp:${this.#fastboot.hostPort}`;
    return `serial:${this.#ptyHostPath ?? ''}`;
  }
  /** The pty path a host opens (only with the pty link); the same path across reboots. */
  get ptyPath(): string | null {
    return this.#ptyHostPath;
  }
  get isUp(): boolean {
    return this.#up;
  }

  async start(): Promise<void> {
    await this.device.exclusive(() => this.device.powerOn('os'));
    // Pick both ports now, so each address is known (and kept) even while its link is not offered.
    for (const l of [this.#fastboot, this.#adb]) await l?.open();
    await this.#openLinks();
    this.emit('up');
  }

  /** What the device offers now (profiles.ts): a stock phone has fastboot in the bootloader, ADB in Android. */
  #offered(): { fastboot: boolean; adb: boolean } {
    return linksIn(this.profile, this.device.mode);
  }

  /** After power-on or a boot: open the links the mode offers, close the others; Android starts its life. */
  async #openLinks(): Promise<void> {
    const offered = this.#offered();
    await (offered.fastboot ? this.#fastboot?.open() : this.#fastboot?.close());
    await (offered.adb ? this.#adb?.open() : this.#adb?.close());
    this.#up = true;
    if (this.options.pty && offered.fastboot) await this.#ptyTask(() => this.#openPty());
    if (this.device.mode === 'os') this.android?.started();
  }

  /** Resolves once the device is booted and reachable (immediately when it is). */
  whenUp(): Promise<void> {
    return this.#cycle;
  }

  /**
   * An in-process link to the device (fastboot with the TCP framing). Throws while the device is down, and
   * while a stock phone runs Android (fastboot answers only in its bootloader).
   */
  connect(): Duplex {
    this.#assertOffered('fastboot');
    const [host, dev] = createDuplexPair();
    this.#serveLink(dev);
    return host;
  }

  /**
   * An in-process ADB link to a stock phone running Android (what `adbAddress` serves over TCP).
   * Throws while the device is down or in the bootloader.
   */
  connectAdb(): Duplex {
    this.#assertOffered('adb');
    const [host, dev] = createDuplexPair();
    this.#serveAdbLink(dev);
    return host;
  }

  #assertOffered(link: 'fastboot' | 'adb'): void {
    if (!this.#up)
      throw new FlashlineError('disconnected', 'the virtual device is rebooting; wait for whenUp()');
    if (this.#offered()[link]) return;
    const where =
      link === 'fastboot'
        ? 'the phone is running Android: fastboot answers only in the bootloader (adb reboot bootloader)'
        : this.android
          ? 'the phone is in the bootloader: ADB answers only in Android (fastboot reboot)'
          : 'this device has no ADB (use --profile stock-android)';
    throw new FlashlineError('disconnected', where);
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
    this.android?.stopped();
    await this.#closeListeners();
    this.#power.abort();
    await this.#ptyTask(() => this.#closePty());
    this.device.powerOff();
    if (this.options.removeStateOnStop) await fs.rm(this.stateDir, { recursive: true, force: true });
  }

  async #closeListeners(): Promise<void> {
    for (const l of [this.#fastboot, this.#adb]) await l?.close();
  }

  /** A new link is served only while the device is up and offers it; it drops with the next reboot. */
  #admit(link: Duplex, kind: 'fastboot' | 'adb'): boolean {
    if (!this.#up || this.#stopped || !this.#offered()[kind]) {
      link.destroy();
      return false;
    }
    (link as Socket).setNoDelay?.(true);
    this.#links.add(link);
    link.on('close', () => this.#links.delete(link));
    return true;
  }

  #serveAdbLink(link: Duplex): void {
    const android = this.android;
    if (!android || !this.#admit(link, 'adb')) return;
    const options = {
      serial: this.serial,
      authorizedKeys: this.options.adbAuthorizedKeys,
      signal: this.#power.signal,
    };
    void loadServeAdb()
      .then((serve) => serve(link, android, options))
      .catch((err: unknown): AdbSessionEnd => {
        this.emit('problem', `ADB could not be served (${err instanceof Error ? err.message : String(err)})`);
        return { reason: 'error', message: String(err) };
      })
      .then((end) => {
        link.destroy();
        this.emit('adb-session', end);
        // The handler accepted the target before the server ended the session with it.
        if (end.reason === 'reboot' && !this.#stopped) {
          const into = rebootInto(end.target);
          void this.#restart('reboot', () => this.device.reboot(into));
        }
      });
  }

  #serveLink(link: Duplex): void {
    if (!this.#admit(link, 'fastboot')) return;
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

  /** Run pty steps in order; a failed step is reported, never left as an unhandled rejection. */
  #ptyTask(step: () => Promise<void>): Promise<void> {
    const next = this.#ptyTasks.then(step);
    this.#ptyTasks = next.catch((err: unknown) => {
      this.emit(
        'problem',
        `the pty could not be served (${err instanceof Error ? err.message : String(err)})`,
      );
    });
    return next;
  }

  /** A fresh pty pair at the same paths, and one fastboot session on it. */
  async #openPty(): Promise<void> {
    if (this.#stopped || !this.#up || this.#serial || !this.#offered().fastboot) return;
    const pair = await openPtyPair(this.stateDir);
    let port: SerialPort;
    try {
      port = await openSerial(pair.devicePath);
    } catch (err) {
      await pair.close();
      throw err;
    }
    // The host hanging up shows as end of stream; errors after that must not crash the process.
    port.on('error', () => {});
    this.#pty = pair;
    this.#ptyHostPath = pair.hostPath;
    this.#serial = port;
    void this.#servePty(port);
  }

  /** `flushMs`: let the last reply reach the host first (a reboot's OKAY); see PtyPair.close. */
  async #closePty(flushMs = 0): Promise<void> {
    const port = this.#serial;
    const pair = this.#pty;
    this.#serial = null;
    this.#pty = null;
    if (port?.isOpen) {
      // The last reply (OKAY to a reboot) is still on its way; a host that is not reading gets 500 ms.
      await Promise.race([new Promise<void>((r) => port.drain(() => r())), sleep(500)]);
      await new Promise<void>((r) => port.close(() => r()));
    } else port?.destroy();
    await pair?.close(flushMs);
  }

  async #servePty(port: SerialPort): Promise<void> {
    const end = await serveFastboot(port, this.device, {
      ...this.options.session,
      signal: this.#power.signal,
    });
    this.emit('session', end);
    if (this.#stopped || this.#restarting || port !== this.#serial) return;
    if (end.reason === 'reboot') {
      void this.#restart('reboot', () => this.device.reboot(end.into));
      return;
    }
    // The host hung up (or the session ended on a timeout or a protocol error, where TCP would drop the
    // socket): hang up our side too and offer a fresh port for the next host.
    void this.#ptyTask(async () => {
      if (port !== this.#serial) return;
      await this.#closePty();
      await this.#openPty();
    });
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
    this.android?.stopped();
    this.#power.abort();
    this.#power = new AbortController();
    this.#dropLinks();
    this.#cycle = (async () => {
      try {
        await this.#closeListeners();
        await this.#ptyTask(() => this.#closePty(why === 'reboot' ? PTY_FLUSH_MS : 0));
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
        await this.#openLinks();
        this.emit('up');
      } finally {
        this.#restarting = false;
      }
    })();
    return this.#cycle;
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
