/**
 * An in-memory fastboot-like device behind the engine's ports, for unit tests of the engine's logic.
 * (The integration tests use the real virtual device over TCP.)
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { EngineOptions } from '../../../main/flash/context.js';
import {
  type DeviceConnector,
  DeviceLinkError,
  type DeviceSession,
  type FlashImage,
  type FlashPackage,
  type ImageKind,
  type LogicalPartitionCommands,
  type OpOptions,
} from '../../../main/flash/ports.js';
import { decodeSparse } from '../../../main/protocol/fastboot/sparse/index.js';

export interface FakeFaults {
  /** Drop the link once after this many download bytes (counted across the device's life). */
  dropAtByte?: number;
  /** Report `oem sha256` as unknown. */
  noSha256?: boolean;
  /** Slot whose boot fails: the device comes back on the other slot. */
  badBoot?: string;
  /** Commands that never answer (until the caller's signal aborts). */
  hang?: string[];
  /** Replies that are not valid protocol. */
  garbage?: boolean;
  /** `flash` answers FAIL. */
  failFlash?: boolean;
  /** Report a different running version after boot. */
  versionAfterBoot?: string;
  /** After a drop, stay unreachable for this many connect attempts. */
  offlineAttempts?: number;
  /** Lose the last written piece (as a power cut before sync would). */
  loseLastWriteOnDrop?: boolean;
}

export class FakeDevice {
  readonly vars = new Map<string, string>();
  readonly partitions = new Map<string, { size: number; data: Buffer; length: number }>();
  active = 'a';
  online = true;
  runningVersion = '1.0';
  downloaded = 0;
  /** Largest `download:` size announced to this device. */
  largestDownload = 0;
  flashCount = 0;
  readonly faults: FakeFaults;
  #buffer: Buffer | undefined;
  #offlineLeft = 0;
  #lastWrite: { name: string; before: Buffer; length: number } | undefined;
  readonly log: string[] = [];
  /** Dynamic partitions (enableDynamic): super's name and size, logical partition names, mode. */
  dynamic: { superName: string; superSize: number } | undefined;
  readonly logical = new Set<string>();
  userspace = false;
  superUpdates = 0;
  /** Answers FAIL to `reboot-fastboot` (a bootloader without userspace fastboot). */
  noFastbootd = false;

  constructor(serial: string, faults: FakeFaults = {}, product = 'flashline-virtual') {
    this.faults = faults;
    this.vars.set('product', product);
    this.vars.set('serialno', serial);
    this.vars.set('hw-revision', 'rev1');
    this.vars.set('version-bootloader', '2.0');
    this.vars.set('slot-count', '2');
    this.vars.set('max-download-size', '0x100000');
    this.vars.set('rollback-index', '1');
    this.vars.set('free-space', String(64 * 1024 * 1024));
    this.vars.set('battery-level', '80');
    for (const p of ['boot_a', 'boot_b', 'system_a', 'system_b', 'misc']) this.addPartition(p, 1024 * 1024);
  }

  addPartition(name: string, size: number): void {
    this.partitions.set(name, { size, data: Buffer.alloc(size), length: 0 });
  }

  /**
   * Give the device dynamic partitions: a physical `super` of `superSize` bytes, and logical partitions
   * (`system_a`/`_b`, … with their sizes) reachable only in fastbootd. The bootloader lists the super name.
   */
  enableDynamic(superSize: number, logical: Record<string, number> = {}): void {
    this.dynamic = { superName: 'super', superSize };
    this.vars.set('super-partition-name', 'super');
    this.addPartition('super', superSize);
    for (const [name, size] of Object.entries(logical)) this.addLogical(name, size);
  }

  addLogical(name: string, size: number): void {
    this.logical.add(name);
    this.addPartition(name, size);
  }

  /** Bytes the logical partitions take in super. */
  logicalBytes(): number {
    let n = 0;
    for (const name of this.logical) n += this.partitions.get(name)?.size ?? 0;
    return n;
  }

  /** A partition as the current mode sees it: logical ones only in fastbootd. */
  visible(name: string): boolean {
    return this.partitions.has(name) && (this.userspace || !this.logical.has(name));
  }

  getvar(name: string): string | undefined {
    if (name === 'current-slot') return this.active;
    if (name === 'running-version') return this.runningVersion;
    if (name === 'is-userspace') return this.userspace ? 'yes' : 'no';
    const m = /^partition-size:(.+)$/.exec(name);
    if (m) {
      const p = this.visible(m[1]!) ? this.partitions.get(m[1]!) : undefined;
      return p ? `0x${p.size.toString(16)}` : undefined;
    }
    const l = /^is-logical:(.+)$/.exec(name);
    if (l && this.dynamic) return this.visible(l[1]!) ? (this.logical.has(l[1]!) ? 'yes' : 'no') : undefined;
    return this.vars.get(name);
  }

  /** `getvar all`: every variable it answers (capability detection reads which ones it lists). */
  all(): Map<string, string> {
    const out = new Map(this.vars);
    out.set('current-slot', this.active);
    out.set('running-version', this.runningVersion);
    if (this.userspace) out.set('is-userspace', 'yes');
    for (const [name, p] of this.partitions) {
      if (!this.visible(name)) continue;
      out.set(`partition-size:${name}`, `0x${p.size.toString(16)}`);
      if (this.dynamic && this.userspace)
        out.set(`is-logical:${name}`, this.logical.has(name) ? 'yes' : 'no');
    }
    return out;
  }

  sha(name: string): string {
    const p = this.partitions.get(name);
    if (!p) throw new Error(`no partition ${name}`);
    return createHash('sha256').update(p.data.subarray(0, p.length)).digest('hex');
  }

  connect(): DeviceSession {
    if (!this.online || this.#offlineLeft > 0) {
      if (this.#offlineLeft > 0) this.#offlineLeft--;
      throw new DeviceLinkError('disconnected', 'connection refused');
    }
    return new FakeSession(this);
  }

  drop(): void {
    if (this.faults.loseLastWriteOnDrop && this.#lastWrite) {
      const p = this.partitions.get(this.#lastWrite.name)!;
      p.data = this.#lastWrite.before;
      p.length = this.#lastWrite.length;
    }
    this.#offlineLeft = this.faults.offlineAttempts ?? 0;
  }

  receive(data: Buffer): void {
    this.#buffer = data;
  }

  async write(partition: string): Promise<void> {
    if (this.faults.failFlash) throw new DeviceLinkError('device-fail', 'FAIL from device', 'write error');
    // fastbootd writes the current slot's logical partitions (Google's flow makes the target slot current).
    if (partition.endsWith(`_${this.active}`) && !(this.userspace && this.logical.has(partition)))
      throw new DeviceLinkError('device-fail', 'FAIL', 'active slot is protected');
    if (this.logical.has(partition) && !this.userspace)
      throw new DeviceLinkError('device-fail', 'FAIL', `${partition} is logical: flash it in fastbootd`);
    const p = this.visible(partition) ? this.partitions.get(partition) : undefined;
    const buf = this.#buffer;
    if (!p || !buf) throw new DeviceLinkError('device-fail', 'FAIL', `unknown partition ${partition}`);
    this.#lastWrite = { name: partition, before: Buffer.from(p.data), length: p.length };
    this.flashCount++;
    if (buf.length >= 28 && buf.readUInt32LE(0) === 0xed26ff3a) {
      // Applied as a device applies it, through the shared decoder: DONT_CARE keeps the old bytes.
      for await (const op of decodeSparse([buf])) {
        if (op.offset + (op.kind === 'data' ? op.bytes.byteLength : op.length) > p.size) {
          throw new DeviceLinkError('device-fail', 'FAIL', `image too large for ${partition}`);
        }
        if (op.kind === 'data') p.data.set(op.bytes, op.offset);
        else if (op.kind === 'fill') p.data.fill(Buffer.from(op.value), op.offset, op.offset + op.length);
        const end = op.offset + (op.kind === 'data' ? op.bytes.byteLength : op.length);
        p.length = Math.max(p.length, end);
      }
    } else {
      buf.copy(p.data, 0);
      p.length = buf.length;
    }
  }

  /** `reboot-bootloader` / `reboot-fastboot` / `reboot`. */
  rebootTo(mode: 'bootloader' | 'fastbootd' | 'android'): void {
    if (mode === 'fastbootd' && (!this.dynamic || this.noFastbootd))
      throw new DeviceLinkError('device-fail', 'FAIL', 'unknown command');
    if (mode === 'android') this.boot();
    else this.userspace = mode === 'fastbootd';
  }

  /** fastbootd's logical-partition commands, sizes checked against super (layout details are the codec's). */
  logicalCommand(cmd: string, name: string, size?: number): void {
    if (!this.userspace) throw new DeviceLinkError('device-fail', 'FAIL', 'unknown command');
    const sup = this.dynamic!;
    if (cmd === 'update-super') {
      if (name !== sup.superName) throw new DeviceLinkError('device-fail', 'FAIL', 'not the super partition');
      if (!this.#buffer) throw new DeviceLinkError('device-fail', 'FAIL', 'no image downloaded');
      this.superUpdates++;
      // What fastbootd keeps without wipe: the partitions of the slot that is not current.
      for (const n of [...this.logical]) if (n.endsWith(`_${this.active}`)) this.partitions.get(n)!.size = 0;
      return;
    }
    if (cmd === 'delete') {
      this.logical.delete(name);
      this.partitions.delete(name);
      return;
    }
    const others = this.logicalBytes() - (this.partitions.get(name)?.size ?? 0);
    if (others + (size ?? 0) > sup.superSize)
      throw new DeviceLinkError('device-fail', 'FAIL', 'Not enough space');
    if (cmd === 'create') {
      if (this.logical.has(name))
        throw new DeviceLinkError('device-fail', 'FAIL', 'partition already exists');
      this.addLogical(name, size ?? 0);
    } else {
      const p = this.partitions.get(name);
      if (!p || !this.logical.has(name))
        throw new DeviceLinkError('device-fail', 'FAIL', 'no such partition');
      const data = Buffer.alloc(size ?? 0);
      p.data.copy(data, 0, 0, Math.min(p.data.length, data.length));
      this.partitions.set(name, { size: size ?? 0, data, length: Math.min(p.length, size ?? 0) });
    }
  }

  boot(): void {
    this.userspace = false;
    const target = this.active;
    if (this.faults.badBoot === target) {
      this.active = target === 'a' ? 'b' : 'a';
      return;
    }
    const boot = this.partitions.get(`boot_${target}`);
    const head = boot ? boot.data.subarray(0, 64).toString('latin1') : '';
    const m = /^V=([^\n]+)\n/.exec(head);
    if (m) this.runningVersion = this.faults.versionAfterBoot ?? m[1]!;
  }
}

async function guard(device: FakeDevice, name: string, signal: AbortSignal): Promise<void> {
  device.log.push(name);
  if (!device.online) throw new DeviceLinkError('disconnected', 'link closed');
  if (device.faults.hang?.some((h) => name.startsWith(h))) {
    await new Promise<void>((_, reject) => {
      signal.addEventListener('abort', () => reject(new DeviceLinkError('timeout', 'aborted')), {
        once: true,
      });
    });
  }
  if (device.faults.garbage) throw new DeviceLinkError('protocol', "unknown response type '\\x00\\x01'");
  await sleep(0);
}

class FakeSession implements DeviceSession {
  readonly #d: FakeDevice;
  #closed = false;
  readonly messages: string[] = [];
  constructor(d: FakeDevice) {
    this.#d = d;
  }
  #check(): void {
    if (this.#closed) throw new DeviceLinkError('disconnected', 'session closed');
  }
  async getvar(name: string, o: OpOptions): Promise<string | undefined> {
    this.#check();
    await guard(this.#d, `getvar:${name}`, o.signal);
    return this.#d.getvar(name);
  }
  async getvarAll(o: OpOptions): Promise<ReadonlyMap<string, string>> {
    this.#check();
    await guard(this.#d, 'getvar:all', o.signal);
    return this.#d.all();
  }
  async download(
    size: number,
    data: AsyncIterable<Uint8Array>,
    o: OpOptions & { onBytes?: (n: number) => void },
  ): Promise<void> {
    this.#check();
    await guard(this.#d, 'download', o.signal);
    this.#d.largestDownload = Math.max(this.#d.largestDownload, size);
    const parts: Buffer[] = [];
    let got = 0;
    for await (const chunk of data) {
      const drop = this.#d.faults.dropAtByte;
      if (drop !== undefined && this.#d.downloaded + chunk.byteLength >= drop) {
        this.#d.faults.dropAtByte = undefined;
        this.#d.drop();
        this.#closed = true;
        throw new DeviceLinkError('disconnected', 'cable pulled');
      }
      this.#d.downloaded += chunk.byteLength;
      parts.push(Buffer.from(chunk));
      got += chunk.byteLength;
      o.onBytes?.(chunk.byteLength);
    }
    if (got !== size) throw new DeviceLinkError('protocol', `sent ${got} of ${size}`);
    this.#d.receive(Buffer.concat(parts));
  }
  async flash(partition: string, o: OpOptions): Promise<void> {
    this.#check();
    await guard(this.#d, `flash:${partition}`, o.signal);
    await this.#d.write(partition);
  }
  async erase(partition: string, o: OpOptions): Promise<void> {
    this.#check();
    await guard(this.#d, `erase:${partition}`, o.signal);
  }
  async oem(args: readonly string[], o: OpOptions): Promise<string[]> {
    this.#check();
    await guard(this.#d, `oem:${args.join(' ')}`, o.signal);
    if (args[0] === 'sha256') {
      if (this.#d.faults.noSha256) throw new DeviceLinkError('device-fail', 'FAIL', 'unknown command');
      return [this.#d.sha(args[1]!)];
    }
    if (args[0] === 'mark-successful') return [];
    throw new DeviceLinkError('device-fail', 'FAIL', 'unknown oem');
  }
  async setActive(slot: string, o: OpOptions): Promise<void> {
    this.#check();
    await guard(this.#d, `set_active:${slot}`, o.signal);
    this.#d.active = slot;
  }
  async reboot(o: OpOptions): Promise<void> {
    this.#check();
    await guard(this.#d, 'reboot', o.signal);
    this.#closed = true;
    this.#d.boot();
  }
  async rebootTo(mode: 'bootloader' | 'fastbootd' | 'android', o: OpOptions): Promise<void> {
    this.#check();
    await guard(this.#d, `reboot-to:${mode}`, o.signal);
    this.#d.rebootTo(mode);
    this.#closed = true;
  }
  readonly logical: LogicalPartitionCommands = {
    updateSuper: (name, o) => this.#logical('update-super', name, undefined, o),
    createPartition: (name, size, o) => this.#logical('create', name, size, o),
    resizePartition: (name, size, o) => this.#logical('resize', name, size, o),
    deletePartition: (name, o) => this.#logical('delete', name, undefined, o),
  };
  async #logical(cmd: string, name: string, size: number | undefined, o: OpOptions): Promise<void> {
    this.#check();
    await guard(this.#d, `${cmd}:${name}${size === undefined ? '' : `:${size}`}`, o.signal);
    this.#d.logicalCommand(cmd, name, size);
  }
  async close(): Promise<void> {
    this.#closed = true;
  }
}

export class FakeConnector implements DeviceConnector {
  readonly devices = new Map<string, FakeDevice>();
  async connect(deviceId: string, o: OpOptions): Promise<DeviceSession> {
    await sleep(0, undefined, { signal: o.signal });
    const d = this.devices.get(deviceId);
    if (!d) throw new DeviceLinkError('disconnected', `nothing at ${deviceId}`);
    return d.connect();
  }
}

/** A package held in memory; `corrupt` flips a byte of that image to test streaming hash checks. */
export function memoryPackage(
  images: { partition: string; data: Buffer; slotted?: boolean; sparse?: boolean; kind?: ImageKind }[],
  extra: Partial<FlashPackage> & { corrupt?: string } = {},
): FlashPackage {
  const list: FlashImage[] = images.map((i) => ({
    partition: i.partition,
    size: i.data.length,
    sha256: createHash('sha256').update(i.data).digest('hex'),
    slotted: i.slotted ?? true,
    ...(i.sparse ? { sparse: true } : {}),
    ...(i.kind ? { kind: i.kind } : {}),
  }));
  return {
    id: 'demo',
    version: '2.0',
    sha256: 'a'.repeat(64),
    rollbackIndex: 2,
    products: ['flashline-virtual'],
    expectedVersion: '2.0',
    images: list,
    ...extra,
    async *openImage(partition: string) {
      const img = images.find((i) => i.partition === partition);
      if (!img) throw new Error(`no image ${partition}`);
      const hash = createHash('sha256');
      for (let off = 0; off < img.data.length; off += 16 * 1024) {
        const chunk = Buffer.from(img.data.subarray(off, off + 16 * 1024));
        if (extra.corrupt === partition && off === 0) chunk[100] = (chunk[100] ?? 0) ^ 1;
        hash.update(chunk);
        if (
          off + 16 * 1024 >= img.data.length &&
          hash.digest('hex') !== list.find((l) => l.partition === partition)!.sha256
        ) {
          const { FlashlineError } = await import('../../../main/common/errors.js');
          throw new FlashlineError(28, `image ${partition} does not match its signed hash`);
        }
        yield chunk;
      }
    },
  };
}

export function bootImage(version: string, size: number): Buffer {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + version.length) & 0xff;
  b.write(`V=${version}\n`, 0, 'latin1');
  return b;
}

/** Engine options for in-memory jobs: short bounds, a few quick retries; `extra` overrides. */
export function fastEngineOptions(journalDir: string, extra: Partial<EngineOptions> = {}): EngineOptions {
  return {
    journalDir,
    timeouts: {
      commandMs: 1000,
      minDownloadBytesPerSecond: 10 * 1024 * 1024,
      rebootMs: 1000,
      connectMs: 300,
    },
    retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    pieceSize: 256 * 1024,
    minBatteryPercent: 25,
    ...extra,
  };
}

/** Engine options for jobs against fake devices: short limits, one retry, small pieces. */
export function fakeEngine(journalDir: string): EngineOptions {
  return fastEngineOptions(journalDir, {
    timeouts: { commandMs: 2000, minDownloadBytesPerSecond: 10 << 20, rebootMs: 2000, connectMs: 500 },
    retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 10 },
    pieceSize: 64 * 1024,
  });
}
