/**
 * The virtual device model: partitions, A/B boot control, secure element, download buffer, fault hooks.
 * The A/B boot-control rules (slot writes, set_active, which slot boots, mark-successful) live in boot.ts,
 * working on this model through a private BootPort; the dynamic-partitions (logical partition) operations live
 * in logical-partitions.ts, through a private LogicalPort; partition naming lives in partitions.ts.
 * Transport-free: sessions (fastboot-session.ts) call these methods; a `CommandFailure` becomes a FAIL reply.
 * Operations are serialized by the session through `exclusive()`: the device is one machine.
 */
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import {
  type BootedSlot,
  type BootPort,
  beginSlotWrite,
  bootActiveSlot,
  endSlotWrite,
  markSuccessful,
  setActiveSlot,
} from './boot.js';
import { CommandFailure } from './device-errors.js';
import { type DownloadedImage, DownloadSink, type DownloadTarget } from './download-buffer.js';
import { type Faults, PowerCutError, type PowerLossStage } from './faults.js';
import type { ImageMetadata } from './image-metadata.js';
import {
  createLogicalPartition,
  deleteLogicalPartition,
  eraseLogical,
  flashLogical,
  type LogicalPort,
  logicalPartition,
  resizeLogicalPartition,
  updateSuperPartition,
} from './logical-partitions.js';
import { copyRawVerified, sha256OfFile } from './partition-io.js';
import { type PartitionTarget, partitionNames, resolvePartition } from './partitions.js';
import type { DeviceProfile, DynamicPartitionsConfig, RebootTarget } from './profiles.js';
import { DiscardingDownload, flashDiscarded } from './sink.js';
import { isSparseImage, writeSparse } from './sparse-writer.js';
import {
  type BootControl,
  type Layout,
  type PartitionSpec,
  type SecureElement,
  type Slot,
  StateStore,
} from './state-store.js';
import { SuperPartition } from './super-partition.js';

export { CommandFailure };

/** Power-loss stages whose position is a byte offset (or, ota-switch, a step the OTA agent checks). */
type ByteStage = 'download' | 'flash' | 'ota-download' | 'ota-switch';

export interface DeviceConfig {
  /** What the device plays (profiles.ts); the model is the same, the outside view differs. */
  readonly profile: DeviceProfile;
  readonly stateDir: string;
  readonly product: string;
  readonly serial: string;
  readonly hardwareRevision: string;
  readonly capacity?: number;
  readonly partitions?: readonly PartitionSpec[];
  readonly maxDownloadSize: number;
  readonly maxRetries: number;
  readonly bootloaderVersion: string;
  readonly batteryLevel: number;
  readonly factoryVersion: string;
  readonly faults: Faults;
  /** stock-android: system/vendor/product are logical partitions in one `super`; fastbootd exists. */
  readonly dynamicPartitions?: DynamicPartitionsConfig;
}

/** `fastbootd`: userspace fastboot (dynamic partitions only), on the same fastboot port as the bootloader. */
export type DeviceMode = 'os' | 'bootloader' | 'fastbootd' | 'off';

export class VirtualDevice extends EventEmitter<{ 'power-cut': [PowerCutError] }> {
  readonly store: StateStore;
  faults: Faults;
  #layout!: Layout;
  #se!: SecureElement;
  #bc!: BootControl;
  #contentSize = new Map<string, number>();
  #download: DownloadedImage | null = null;
  /** The physical `super` of a phone with dynamic partitions, else null. */
  #super: SuperPartition | null = null;
  #mode: DeviceMode = 'off';
  #booted: BootedSlot | null = null;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #port: BootPort = {
    bootControl: () => this.#bc,
    rollbackIndex: () => this.#se.rollbackIndex,
    badBootSlots: () => this.faults.badBoot,
    maxRetries: () => this.config.maxRetries,
    contentSize: (partition) => this.contentSize(partition),
    partitionPath: (partition) => this.store.partitionPath(partition),
    saveBootControl: () => this.#saveBootControl(),
    raiseRollbackIndex: (to) => this.#raiseRollbackIndex(to),
    cut: (stage, at) => this.#cut(stage, at),
    booted: () => this.#booted,
    enterOs: (booted) => {
      this.#booted = booted;
      this.#mode = 'os';
    },
    markBootedStale: () => {
      if (this.#booted) this.#booted = { ...this.#booted, stale: true };
    },
  };
  readonly #logicalPort: LogicalPort = {
    superPartition: () => this.#super,
    inFastbootd: () => this.#mode === 'fastbootd',
    activeSlot: () => this.#bc.active,
    downloaded: () => this.#download,
    resolvePartition: (arg) => this.resolvePartition(arg),
    cut: (stage, at) => this.#cut(stage, at),
    flashHook: this,
    boot: this.#port,
  };

  constructor(readonly config: DeviceConfig) {
    super();
    this.store = new StateStore(config.stateDir, { durable: config.profile !== 'sink' });
    this.faults = config.faults;
  }

  // ---- state accessors (tests, CLI) ----
  get mode(): DeviceMode {
    return this.#mode;
  }
  get serial(): string {
    return this.#se.serial;
  }
  get product(): string {
    return this.#se.product;
  }
  get hardwareRevision(): string {
    return this.#se.hardwareRevision;
  }
  get rollbackIndex(): number {
    return this.#se.rollbackIndex;
  }
  get bootControl(): BootControl {
    return structuredClone(this.#bc);
  }
  get bootedSlot(): Slot | null {
    return this.#booted?.slot ?? null;
  }
  /** The running system's boot image metadata; null in the bootloader. */
  get bootedImage(): ImageMetadata | null {
    return this.#booted?.meta ?? null;
  }
  get runningVersion(): string {
    return this.#booted?.meta.version ?? 'none';
  }
  /** Whether the device has dynamic partitions (a `super`) and so a fastbootd. */
  get hasFastbootd(): boolean {
    return (this.#layout ? this.#layout.dynamicPartitions : this.config.dynamicPartitions) !== undefined;
  }
  /** The physical `super` (dynamic partitions), else null. */
  get superPartition(): SuperPartition | null {
    return this.#super;
  }
  get layout(): Layout {
    return this.#layout;
  }
  get freeSpace(): number {
    let used = 0;
    for (const n of this.#contentSize.values()) used += n;
    return Math.max(0, this.#layout.capacity - used);
  }
  contentSize(partition: string): number {
    return this.#contentSize.get(partition) ?? 0;
  }

  /** Run device operations one at a time, in arrival order. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn, fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  /** Power on: forget everything in memory, reload the state directory, boot (or stay in the bootloader). */
  async powerOn(into: 'os' | 'bootloader' | 'fastboot' = 'os'): Promise<void> {
    const c = this.config;
    const loaded = await this.store.openOrCreate({
      product: c.product,
      serial: c.serial,
      hardwareRevision: c.hardwareRevision,
      capacity: c.capacity,
      partitions: c.partitions,
      maxRetries: c.maxRetries,
      factoryVersion: c.factoryVersion,
      dynamicPartitions: c.dynamicPartitions,
      createSuper: (path, size) => SuperPartition.createFactory(path, size, c.factoryVersion),
    });
    this.#layout = loaded.layout;
    const dp = loaded.layout.dynamicPartitions;
    this.#super = dp ? new SuperPartition(this.store.partitionPath('super'), dp.superSize) : null;
    await this.#super?.load();
    this.#se = loaded.secureElement;
    this.#bc = loaded.bootControl;
    this.#download = null;
    this.#booted = null;
    this.#contentSize.clear();
    for (const t of partitionNames(this.#layout)) {
      const st = await fs.stat(this.store.partitionPath(t)).catch(() => null);
      this.#contentSize.set(t, st?.size ?? 0);
    }
    this.#mode = 'bootloader';
    if (into === 'os') await this.#boot(false);
    else if (into === 'fastboot') this.#enterFastbootd();
  }

  /** fastbootd runs from the recovery ramdisk: no slot boots, nothing is committed. */
  #enterFastbootd(): void {
    if (!this.hasFastbootd) throw new CommandFailure('this device has no fastbootd (no dynamic partitions)');
    this.#mode = 'fastbootd';
  }

  /** The device loses power now: nothing more is written until powerOn(). */
  powerOff(): void {
    this.#mode = 'off';
    this.#download = null;
  }

  // ---- fault hook ----
  #cut(stage: PowerLossStage, at: number): void {
    const f = this.faults.powerLoss;
    if (!f || f.stage !== stage || f.at !== at) return;
    this.#powerCut(f);
  }

  /** For byte-offset stages: does [from, to) cross the cut point? Returns the offset to stop at. */
  cutOffset(stage: ByteStage, from: number, to: number): number | null {
    if (this.#mode === 'off') throw new CommandFailure('device lost power');
    const f = this.faults.powerLoss;
    if (!f || f.stage !== stage || f.at < from || f.at >= to) return null;
    return f.at;
  }

  firePowerCut(stage: ByteStage): never {
    const f = this.faults.powerLoss;
    this.#powerCut(f ?? { stage, at: 0 });
  }

  #powerCut(f: { stage: PowerLossStage; at: number }): never {
    this.faults = { ...this.faults, powerLoss: undefined };
    this.powerOff();
    const err = new PowerCutError(f);
    this.emit('power-cut', err);
    throw err;
  }

  #assertOn(): void {
    if (this.#mode === 'off') throw new CommandFailure('device is powered off');
  }

  // ---- download ----
  async beginDownload(size: number): Promise<DownloadTarget> {
    this.#assertOn();
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new CommandFailure('download size must be at least 1 byte');
    if (size > this.config.maxDownloadSize) {
      throw new CommandFailure(
        `data too large: ${size} bytes > max-download-size ${this.config.maxDownloadSize}; split the image`,
      );
    }
    this.#download = null;
    if (this.config.profile === 'sink') return new DiscardingDownload(this.store.downloadPath, size);
    return DownloadSink.open(this.store.downloadPath, size);
  }

  completeDownload(image: DownloadedImage): void {
    this.#download = image;
  }

  // ---- partitions ----
  /** `boot` → `boot_<active>`, `boot_a` → itself; null when there is no such partition. */
  resolvePartition(arg: string): PartitionTarget | null {
    return resolvePartition(this.#layout, this.#bc.active, arg);
  }

  #target(arg: string): PartitionTarget {
    const t = this.resolvePartition(arg);
    if (!t) {
      throw new CommandFailure(
        `unknown partition '${arg}' (partitions: ${partitionNames(this.#layout).join(', ')})`,
      );
    }
    return t;
  }

  async #saveBootControl(): Promise<void> {
    // An operation still running when power went must not write anything afterwards.
    if (this.#mode === 'off') throw new CommandFailure('device lost power');
    await this.store.saveBootControl(this.#bc);
  }

  /**
   * A logical partition in super: `system_b`, or `system` for the active slot's copy; null when `arg` is not
   * one (or the device has no dynamic partitions).
   */
  logicalPartition(arg: string): { name: string; slot: Slot | null } | null {
    return logicalPartition(this.#logicalPort, arg);
  }

  async flash(arg: string): Promise<void> {
    this.#assertOn();
    const logical = this.logicalPartition(arg);
    if (logical) return flashLogical(this.#logicalPort, logical.name, logical.slot);
    const t = this.#target(arg);
    const image = this.#download;
    if (!image) throw new CommandFailure('no image downloaded: send download:<size> before flash');
    const sparse = await isSparseImage(image.path);
    const newSize = sparse ? sparse.expandedSize : image.size;
    if (newSize > t.spec.size) {
      throw new CommandFailure(`image is ${newSize} bytes but partition ${t.name} holds ${t.spec.size}`);
    }
    const growth = newSize - this.contentSize(t.name);
    if (growth > this.freeSpace) {
      throw new CommandFailure(`storage full: ${t.name} needs ${growth} more bytes, ${this.freeSpace} free`);
    }
    const reactivate = t.slot ? await beginSlotWrite(this.#port, t.slot) : false;
    const path = this.store.partitionPath(t.name);
    try {
      if (this.config.profile === 'sink') {
        await flashDiscarded(image, path, newSize, sparse !== null);
      } else if (sparse) {
        await writeSparse(image.path, path, this);
      } else {
        await copyRawVerified(image.path, path, image.size, this, t.name);
      }
    } finally {
      const st = await fs.stat(path).catch(() => null);
      this.#contentSize.set(t.name, st?.size ?? 0);
    }
    if (t.slot) await endSlotWrite(this.#port, t.slot, reactivate);
    // The physical super was rewritten (e.g. fastboot wipe-super): its metadata is whatever it holds now.
    if (t.name === 'super') await this.#super?.load();
  }

  /** fastbootd: `create-logical-partition NAME SIZE` (in the slot's group, `main_a`/`main_b`, or `default`). */
  async createLogicalPartition(name: string, size: number): Promise<void> {
    this.#assertOn();
    await createLogicalPartition(this.#logicalPort, name, size);
  }

  async deleteLogicalPartition(name: string): Promise<void> {
    this.#assertOn();
    await deleteLogicalPartition(this.#logicalPort, name);
  }

  async resizeLogicalPartition(name: string, size: number): Promise<void> {
    this.#assertOn();
    await resizeLogicalPartition(this.#logicalPort, name, size);
  }

  /** fastbootd: `update-super NAME [wipe]` with a super_empty.img in the download buffer (update-super.ts). */
  async updateSuper(name: string, wipe: boolean): Promise<void> {
    this.#assertOn();
    await updateSuperPartition(this.#logicalPort, name, wipe);
  }

  async erase(arg: string): Promise<void> {
    this.#assertOn();
    const logical = this.logicalPartition(arg);
    if (logical) return eraseLogical(this.#logicalPort, logical.name, logical.slot);
    const t = this.#target(arg);
    this.#cut('erase', 0);
    if (t.slot) await beginSlotWrite(this.#port, t.slot);
    this.#cut('erase', 1);
    const h = await fs.open(this.store.partitionPath(t.name), 'w');
    try {
      await h.sync();
    } finally {
      await h.close();
    }
    this.#contentSize.set(t.name, 0);
    // An erased slot stays unbootable until it is flashed again.
  }

  /** SHA-256 of a partition's content; a logical partition is read through its extents (all its bytes). */
  async partitionSha256(arg: string): Promise<string> {
    this.#assertOn();
    if (this.config.profile === 'sink')
      throw new CommandFailure(
        'this is a sink device: it discards what it receives, so it has no hash to give',
      );
    const logical = this.logicalPartition(arg);
    if (logical && this.#super) return this.#super.sha256(logical.name);
    const t = this.#target(arg);
    return sha256OfFile(this.store.partitionPath(t.name));
  }

  // ---- boot control (rules in boot.ts) ----
  async setActive(arg: string): Promise<void> {
    this.#assertOn();
    await setActiveSlot(this.#port, arg);
  }

  /** Commit the booted slot; the secure element's rollback index becomes max(current, booted image's). */
  async markSuccessful(): Promise<void> {
    this.#assertOn();
    await markSuccessful(this.#port);
  }

  async #raiseRollbackIndex(to: number): Promise<void> {
    if (to <= this.#se.rollbackIndex) return;
    if (this.#mode === 'off') throw new CommandFailure('device lost power');
    this.#se = { ...this.#se, rollbackIndex: to };
    await this.store.saveSecureElement(this.#se);
  }

  /** Called by the session after replying OKAY to reboot: the device boots again (see #boot). */
  async reboot(into: RebootTarget): Promise<void> {
    this.#download = null;
    this.#booted = null;
    this.#mode = 'bootloader';
    if (into === 'os') await this.#boot(true);
    else if (into === 'fastboot') this.#enterFastbootd();
  }

  /** Boot the active slot (see bootActiveSlot); stay in the bootloader when no slot can boot. */
  async #boot(fromReboot: boolean): Promise<void> {
    if (!(await bootActiveSlot(this.#port, fromReboot))) this.#mode = 'bootloader';
  }

  // ---- OTA agent (virtual-device/ota/): it writes its inactive slot itself, under the same boot rules ----
  /** Before the agent's first write to `slot`: the slot is marked unbootable (never the active one). */
  async beginOtaSlotWrite(slot: Slot): Promise<void> {
    this.#assertOn();
    if (this.#bc.active === slot)
      throw new CommandFailure(`slot ${slot} is active: an OTA update writes the inactive slot only`);
    await beginSlotWrite(this.#port, slot);
  }

  /** After the agent wrote partitions: their content sizes are what the files hold now. */
  async refreshContentSize(partition: string): Promise<void> {
    const st = await fs.stat(this.store.partitionPath(partition)).catch(() => null);
    this.#contentSize.set(partition, st?.size ?? 0);
  }

  /** The agent's slot is complete and verified: bootable again with full retries (not active yet). */
  async endOtaSlotWrite(slot: Slot): Promise<void> {
    this.#assertOn();
    await endSlotWrite(this.#port, slot, false);
  }

  /** Download state for getvar and the session. */
  get downloaded(): DownloadedImage | null {
    return this.#download;
  }
}
