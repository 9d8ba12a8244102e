/**
 * One running virtual device: the model plus its links (fastboot: TCP, pty, in-process; ADB on a stock
 * phone: TCP, in-process), and its life cycle: reboot (links drop, the device boots after a short delay,
 * then offers again, at the same addresses, the links its mode offers — profiles.ts) and power loss (links
 * drop, unsynced state is discarded, the device reloads its state directory and boots). The pty behaves like
 * a USB-serial port (pty-link.ts).
 */
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlashlineError } from '../main/common/errors.js';
import type { AdbSessionEnd } from './adb/device-handler.js';
import { serveAdb } from './adb/serve-adb.js';
import { AndroidSide, rebootInto } from './android-side.js';
import type { VirtualDevice } from './device.js';
import { type SessionEnd, type SessionOptions, serveFastboot } from './fastboot-session.js';
import { PowerCutError } from './faults.js';
import { createDuplexPair } from './in-process.js';
import type { OtaAgent } from './ota/agent.js';
import { type AndroidTimings, type DeviceProfile, linksIn } from './profiles.js';
import { PtyLink, type PtyLinkOwner } from './pty-link.js';
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
  readonly #pty: PtyLink | null;
  #links = new Set<Duplex>();
  #power = new AbortController();
  #up = false;
  #cycle: Promise<void> = Promise.resolve();
  #restarting = false;
  #stopped = false;
  #ota: OtaAgent | null = null;

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
    this.#pty = options.pty ? new PtyLink(device.store.dir, this.#ptyOwner()) : null;
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
    return `serial:${this.ptyPath ?? ''}`;
  }
  /** The pty path a host opens (only with the pty link); the same path across reboots. */
  get ptyPath(): string | null {
    return this.#pty?.hostPath ?? null;
  }
  get isUp(): boolean {
    return this.#up;
  }
  /** The OTA agent (started with the `ota` option), else null. */
  get ota(): OtaAgent | null {
    return this.#ota;
  }

  /** Reboot into the OS, as `fastboot reboot` does; resolves when the device is back (the OTA agent's). */
  rebootOs(): Promise<void> {
    return this.#restart('reboot', () => this.device.reboot('os'));
  }

  /** Run an OTA agent with this device (stopped with it). */
  attachOta(agent: OtaAgent): void {
    this.#ota = agent;
    agent.start();
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
    if (offered.fastboot) await this.#pty?.open();
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
    await this.#ota?.stop();
    this.#up = false;
    await this.#cycle.catch(() => {});
    this.#dropLinks();
    this.android?.stopped();
    await this.#closeListeners();
    this.#power.abort();
    await this.#pty?.close();
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
    void serveAdb(link, android, options)
      .catch((err: unknown): AdbSessionEnd => {
        this.emit('problem', `ADB could not be served (${err instanceof Error ? err.message : String(err)})`);
        return { reason: 'error', message: String(err) };
      })
      .then((end) => {
        link.destroy();
        this.emit('adb-session', end);
        // The handler accepted the target before the server ended the session with it.
        if (end.reason === 'reboot' && !this.#stopped) {
          const into = rebootInto(end.target, this.device.hasFastbootd);
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

  #ptyOwner(): PtyLinkOwner {
    return {
      canOffer: () => !this.#stopped && this.#up && this.#offered().fastboot,
      serve: (port) =>
        serveFastboot(port, this.device, { ...this.options.session, signal: this.#power.signal }),
      ended: (end, current) => {
        this.emit('session', end);
        if (this.#stopped || this.#restarting || !current) return true;
        if (end.reason !== 'reboot') return false;
        void this.#restart('reboot', () => this.device.reboot(end.into));
        return true;
      },
      problem: (message) => this.emit('problem', message),
    };
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
        await this.#pty?.close(why === 'reboot' ? PTY_FLUSH_MS : 0);
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
