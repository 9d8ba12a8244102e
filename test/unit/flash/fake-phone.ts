/**
 * An in-memory stock Android phone behind the engine's ports: starts in Android (ADB endpoint answers,
 * fastboot does not), has no vendor fastboot variables or commands, boots into Android after a reboot and
 * marks a good slot successful itself (as update_verifier does). For the engine's Android flow in unit tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type AndroidSession,
  type AndroidShellResult,
  DeviceLinkError,
  type DeviceSession,
  type OpOptions,
} from '../../../main/flash/ports.js';
import { FakeConnector, FakeDevice, type FakeFaults } from './fake-device.js';

export class FakePhone extends FakeDevice {
  mode: 'android' | 'fastboot' = 'android';
  readonly marked = new Set<string>();
  unauthorized = false;
  /** The phone forgets this host's key when it boots (as after a factory reset by the update). */
  revokeOnBoot = false;
  /** Android reports a boot completed only after this many property reads. */
  bootDelayReads = 0;
  #readsSinceBoot = 0;

  constructor(serial: string, faults: FakeFaults = {}) {
    super(serial, faults);
    for (const v of ['rollback-index', 'free-space', 'battery-level']) this.vars.delete(v);
  }

  override all(): Map<string, string> {
    const out = super.all();
    out.delete('running-version');
    return out;
  }

  override getvar(name: string): string | undefined {
    return name === 'running-version' ? undefined : super.getvar(name);
  }

  override connect(): DeviceSession {
    if (this.mode !== 'fastboot') throw new DeviceLinkError('disconnected', 'connection refused');
    return super.connect();
  }

  connectAndroid(): AndroidSession {
    if (this.mode !== 'android') throw new DeviceLinkError('disconnected', 'connection refused');
    if (this.unauthorized) {
      throw new DeviceLinkError(
        'unauthorized',
        'USB debugging is not authorized for this computer',
        undefined,
        {
          remedy: 'Unlock the phone and tap "Allow" on "Allow USB debugging?".',
        },
      );
    }
    return new FakeAndroid(this);
  }

  /** A normal reboot from fastboot: the bootloader picks a slot, Android comes up and commits a good one. */
  override boot(): void {
    super.boot();
    this.mode = 'android';
    this.#readsSinceBoot = 0;
    if (this.revokeOnBoot) this.unauthorized = true;
    if (this.faults.badBoot !== this.active) this.marked.add(this.active);
  }

  props(): Map<string, string> {
    this.#readsSinceBoot++;
    return new Map([
      ['ro.serialno', this.vars.get('serialno') ?? ''],
      ['ro.product.device', this.vars.get('product') ?? ''],
      ['ro.build.fingerprint', `flashline/virtual:${this.runningVersion}/user`],
      ['ro.boot.slot_suffix', `_${this.active}`],
      ['ro.build.version.incremental', this.runningVersion],
      ['sys.boot_completed', this.#readsSinceBoot > this.bootDelayReads ? '1' : ''],
    ]);
  }

  shell(command: string): AndroidShellResult {
    this.log.push(`shell:${command}`);
    const m = /^bootctl is-slot-marked-successful (\d)$/.exec(command);
    if (m) return { exitCode: this.marked.has(String.fromCharCode(97 + Number(m[1]))) ? 0 : 1, stdout: '' };
    if (command.includes('power_supply')) return { exitCode: 0, stdout: '80\n' };
    return { exitCode: 127, stdout: `${command.split(' ')[0]}: not found` };
  }
}

class FakeAndroid implements AndroidSession {
  readonly #p: FakePhone;
  #closed = false;
  readonly state = 'device';
  constructor(p: FakePhone) {
    this.#p = p;
  }
  async #guard(what: string, signal: AbortSignal): Promise<void> {
    if (this.#closed || this.#p.mode !== 'android')
      throw new DeviceLinkError('disconnected', 'ADB link closed');
    this.#p.log.push(what);
    await sleep(0, undefined, { signal });
  }
  async props(o: OpOptions): Promise<ReadonlyMap<string, string>> {
    await this.#guard('adb:getprop', o.signal);
    return this.#p.props();
  }
  async shell(command: string, o: OpOptions): Promise<AndroidShellResult> {
    await this.#guard('adb:shell', o.signal);
    return this.#p.shell(command);
  }
  async reboot(target: string, o: OpOptions): Promise<void> {
    await this.#guard(`adb:reboot:${target}`, o.signal);
    this.#closed = true;
    if (target === 'bootloader') this.#p.mode = 'fastboot';
    else this.#p.boot();
  }
  async close(): Promise<void> {
    this.#closed = true;
  }
}

/** A connector that also opens ADB sessions on phones registered under `adb:` ids. */
export class FakePhoneConnector extends FakeConnector {
  async connectAndroid(deviceId: string, o: OpOptions): Promise<AndroidSession> {
    await sleep(0, undefined, { signal: o.signal });
    const d = this.devices.get(deviceId);
    if (!(d instanceof FakePhone)) throw new DeviceLinkError('disconnected', `no ADB at ${deviceId}`);
    return d.connectAndroid();
  }
}
