/**
 * The virtual device model: partitions, A/B boot control, secure element, download buffer, fault hooks.
 * Transport-free: sessions (fastboot-session.ts) call these methods; a `CommandFailure` becomes a FAIL reply.
 * Operations are serialized by the session through `exclusive()`: the device is one machine.
 */
import { EventEmitter } from 'node:events';
import { promises as fs } from 'node:fs';
import { CommandFailure } from './device-errors.js';
import { type DownloadedImage, DownloadSink } from './download-buffer.js';
import { type Faults, PowerCutError, type PowerLossStage } from './faults.js';
import { IMAGE_HEADER_SIZE, type ImageMetadata, parseImageHeader, UNKNOWN_IMAGE } from './image-metadata.js';
import { copyRaw, sha256OfFile } from './partition-io.js';
import { isSparseImage, writeSparse } from './sparse-writer.js';
import {
  type BootControl,
  type Layout,
  otherSlot,
  type PartitionSpec,
  type SecureElement,
  SLOTS,
  type Slot,
  StateStore,
} from './state-store.js';

export { CommandFailure };

export interface DeviceConfig {
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
}

export type DeviceMode = 'os' | 'bootloader' | 'off';

interface PartitionTarget {
  readonly name: string;
  readonly spec: PartitionSpec;
  readonly slot: Slot | null;
}

export class VirtualDevice extends EventEmitter<{ 'power-cut': [PowerCutError] }> {
  readonly store: StateStore;
  faults: Faults;
  #layout!: Layout;
  #se!: SecureElement;
  #bc!: BootControl;
  #contentSize = new Map<string, number>();
  #download: DownloadedImage | null = null;
  #mode: DeviceMode = 'off';
  #booted: { slot: Slot; meta: ImageMetadata; stale?: boolean } | null = null;
  #queue: Promise<unknown> = Promise.resolve();

  constructor(readonly config: DeviceConfig) {
    super();
    this.store = new StateStore(config.stateDir);
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
  get runningVersion(): string {
    return this.#booted?.meta.version ?? 'none';
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
  async powerOn(into: 'os' | 'bootloader' = 'os'): Promise<void> {
    const c = this.config;
    const loaded = await this.store.openOrCreate({
      product: c.product,
      serial: c.serial,
      hardwareRevision: c.hardwareRevision,
      capacity: c.capacity,
      partitions: c.partitions,
      maxRetries: c.maxRetries,
      factoryVersion: c.factoryVersion,
    });
    this.#layout = loaded.layout;
    this.#se = loaded.secureElement;
    this.#bc = loaded.bootControl;
    this.#download = null;
    this.#booted = null;
    this.#contentSize.clear();
    for (const t of this.#allPartitionNames()) {
      const st = await fs.stat(this.store.partitionPath(t)).catch(() => null);
      this.#contentSize.set(t, st?.size ?? 0);
    }
    this.#mode = 'bootloader';
    if (into === 'os') await this.#boot(false);
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
  cutOffset(stage: 'download' | 'flash', from: number, to: number): number | null {
    if (this.#mode === 'off') throw new CommandFailure('device lost power');
    const f = this.faults.powerLoss;
    if (!f || f.stage !== stage || f.at < from || f.at >= to) return null;
    return f.at;
  }

  firePowerCut(stage: 'download' | 'flash'): never {
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
  async beginDownload(size: number): Promise<DownloadSink> {
    this.#assertOn();
    if (!Number.isSafeInteger(size) || size <= 0)
      throw new CommandFailure('download size must be at least 1 byte');
    if (size > this.config.maxDownloadSize) {
      throw new CommandFailure(
        `data too large: ${size} bytes > max-download-size ${this.config.maxDownloadSize}; split the image`,
      );
    }
    this.#download = null;
    return DownloadSink.open(this.store.downloadPath, size);
  }

  completeDownload(image: DownloadedImage): void {
    this.#download = image;
  }

  // ---- partitions ----
  #allPartitionNames(): string[] {
    return this.#layout.partitions.flatMap((p) =>
      p.slotted ? SLOTS.map((s) => `${p.name}_${s}`) : [p.name],
    );
  }

  /** `boot` → `boot_<active>`, `boot_a` → itself; null when there is no such partition. */
  resolvePartition(arg: string): PartitionTarget | null {
    for (const spec of this.#layout.partitions) {
      if (!spec.slotted && arg === spec.name) return { name: arg, spec, slot: null };
      if (spec.slotted) {
        if (arg === spec.name) return { name: `${arg}_${this.#bc.active}`, spec, slot: this.#bc.active };
        for (const s of SLOTS) if (arg === `${spec.name}_${s}`) return { name: arg, spec, slot: s };
      }
    }
    return null;
  }

  #target(arg: string): PartitionTarget {
    const t = this.resolvePartition(arg);
    if (!t) {
      throw new CommandFailure(
        `unknown partition '${arg}' (partitions: ${this.#allPartitionNames().join(', ')})`,
      );
    }
    return t;
  }

  /**
   * Before writing a slot: mark it unbootable, and if it is the active slot, make the other slot active so
   * the active slot is never the one being written. Refuses when that would leave no bootable slot.
   */
  async #beginSlotWrite(slot: Slot): Promise<boolean> {
    const other = otherSlot(slot);
    const wasActive = this.#bc.active === slot;
    if (wasActive && this.#bc.slots[other].unbootable) {
      throw new CommandFailure(
        `cannot write slot ${slot}: it is active and slot ${other} is not bootable; flash slot ${other} first`,
      );
    }
    this.#bc.slots[slot] = { ...this.#bc.slots[slot], unbootable: true, successful: false };
    if (wasActive) this.#bc.active = other;
    // The running system's slot is being replaced: it can no longer be committed by mark-successful.
    if (this.#booted?.slot === slot) this.#booted = { ...this.#booted, stale: true };
    await this.#saveBootControl();
    return wasActive;
  }

  async #saveBootControl(): Promise<void> {
    // An operation still running when power went must not write anything afterwards.
    if (this.#mode === 'off') throw new CommandFailure('device lost power');
    await this.store.saveBootControl(this.#bc);
  }

  async #endSlotWrite(slot: Slot, reactivate: boolean): Promise<void> {
    this.#bc.slots[slot] = { retryCount: this.config.maxRetries, successful: false, unbootable: false };
    if (reactivate) this.#bc.active = slot;
    await this.#saveBootControl();
  }

  async flash(arg: string): Promise<void> {
    this.#assertOn();
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
    const reactivate = t.slot ? await this.#beginSlotWrite(t.slot) : false;
    const path = this.store.partitionPath(t.name);
    try {
      if (sparse) {
        await writeSparse(image.path, path, this);
      } else {
        const expected = await copyRaw(image.path, path, image.size, this);
        // Read back what landed on storage: the slot becomes valid only when this hash matches.
        const written = await sha256OfFile(path);
        if (written !== expected) {
          throw new CommandFailure(
            `verification of ${t.name} failed: wrote ${written}, expected ${expected}`,
          );
        }
      }
    } finally {
      const st = await fs.stat(path).catch(() => null);
      this.#contentSize.set(t.name, st?.size ?? 0);
    }
    if (t.slot) await this.#endSlotWrite(t.slot, reactivate);
  }

  async erase(arg: string): Promise<void> {
    this.#assertOn();
    const t = this.#target(arg);
    this.#cut('erase', 0);
    if (t.slot) await this.#beginSlotWrite(t.slot);
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

  async partitionSha256(arg: string): Promise<string> {
    this.#assertOn();
    const t = this.#target(arg);
    return sha256OfFile(this.store.partitionPath(t.name));
  }

  // ---- boot control ----
  async setActive(arg: string): Promise<void> {
    this.#assertOn();
    const slot = SLOTS.find((s) => s === arg || `_${s}` === arg);
    if (!slot) throw new CommandFailure(`invalid slot '${arg}': use a or b`);
    if (this.#bc.slots[slot].unbootable) {
      throw new CommandFailure(
        `slot ${slot} is not bootable (its last write did not complete); flash it first`,
      );
    }
    this.#cut('set_active', 0);
    this.#bc.active = slot;
    this.#bc.slots[slot] = { retryCount: this.config.maxRetries, successful: false, unbootable: false };
    await this.#saveBootControl();
    this.#cut('set_active', 1);
  }

  /** Commit the booted slot; the secure element's rollback index becomes max(current, booted image's). */
  async markSuccessful(): Promise<void> {
    this.#assertOn();
    const booted = this.#booted;
    if (!booted) throw new CommandFailure('no slot is booted (device is in the bootloader); reboot first');
    if (booted.stale || this.#bc.active !== booted.slot) {
      throw new CommandFailure(`slot ${booted.slot} changed since it booted; reboot before mark-successful`);
    }
    this.#cut('mark-successful', 0);
    this.#bc.slots[booted.slot] = { retryCount: this.config.maxRetries, successful: true, unbootable: false };
    await this.#saveBootControl();
    this.#cut('mark-successful', 1);
    await this.#raiseRollbackIndex(booted.meta.rollbackIndex);
    this.#cut('mark-successful', 2);
  }

  async #raiseRollbackIndex(to: number): Promise<void> {
    if (to <= this.#se.rollbackIndex) return;
    if (this.#mode === 'off') throw new CommandFailure('device lost power');
    this.#se = { ...this.#se, rollbackIndex: to };
    await this.store.saveSecureElement(this.#se);
  }

  /** Called by the session after replying OKAY to reboot: the device boots again (see #boot). */
  async reboot(into: 'os' | 'bootloader'): Promise<void> {
    this.#download = null;
    this.#booted = null;
    this.#mode = 'bootloader';
    if (into === 'os') await this.#boot(true);
  }

  async #bootImage(slot: Slot): Promise<ImageMetadata | null> {
    if (this.faults.badBoot?.includes(slot)) return null;
    if (this.contentSize(`boot_${slot}`) === 0) return null;
    const h = await fs.open(this.store.partitionPath(`boot_${slot}`), 'r');
    let header: Buffer;
    try {
      const { buffer, bytesRead } = await h.read(Buffer.alloc(IMAGE_HEADER_SIZE), 0, IMAGE_HEADER_SIZE, 0);
      header = buffer.subarray(0, bytesRead);
    } finally {
      await h.close();
    }
    const meta = parseImageHeader(header) ?? UNKNOWN_IMAGE;
    // Anti-rollback, as AVB does: an image older than the secure element's index does not boot.
    return meta.rollbackIndex < this.#se.rollbackIndex ? null : meta;
  }

  /**
   * Boot the active slot. An unsuccessful slot burns a retry per attempt; a slot out of retries is marked
   * unbootable and the other slot becomes active — but the last bootable slot is never marked unbootable:
   * if it cannot boot either, the device stays in the bootloader (fastboot) so it can be reflashed.
   */
  async #boot(fromReboot: boolean): Promise<void> {
    let step = 0;
    const persist = async () => {
      await this.#saveBootControl();
      if (fromReboot) this.#cut('reboot', ++step);
    };
    if (fromReboot) this.#cut('reboot', 0);
    const bc = this.#bc;
    for (let attempt = 0; attempt < 4 * (this.config.maxRetries + 2); attempt++) {
      const slot = bc.active;
      const other = otherSlot(slot);
      const st = bc.slots[slot];
      const otherBootable = !bc.slots[other].unbootable;
      if (st.unbootable || (!st.successful && st.retryCount === 0)) {
        if (!otherBootable) break;
        bc.slots[slot] = { ...st, unbootable: true, successful: false };
        bc.active = other;
        await persist();
        continue;
      }
      if (!st.successful) {
        bc.slots[slot] = { ...st, retryCount: st.retryCount - 1 };
        await persist();
      }
      const meta = await this.#bootImage(slot);
      if (meta) {
        this.#booted = { slot, meta };
        this.#mode = 'os';
        // Finish a mark-successful that power loss interrupted between its two writes.
        if (bc.slots[slot].successful) await this.#raiseRollbackIndex(meta.rollbackIndex);
        return;
      }
      if (bc.slots[slot].successful) {
        bc.slots[slot] = { ...bc.slots[slot], successful: false };
        await persist();
      }
    }
    this.#mode = 'bootloader';
  }

  /** Download state for getvar and the session. */
  get downloaded(): DownloadedImage | null {
    return this.#download;
  }
}
