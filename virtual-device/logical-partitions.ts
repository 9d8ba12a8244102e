/**
 * The virtual device's dynamic-partitions operations, apart from the device model (device.ts): finding a
 * logical partition in super, and flash / erase / create / delete / resize / update-super on it — in fastbootd
 * only, as a real bootloader refuses them. It works on the device's live state through a `LogicalPort`; the
 * A/B slot rules of a slot's copy go through the device's BootPort (boot.ts).
 */
import { type BootPort, beginSlotWrite, endSlotWrite } from './boot.js';
import { CommandFailure } from './device-errors.js';
import type { DownloadedImage } from './download-buffer.js';
import type { PowerLossStage } from './faults.js';
import { copyRawTo, type FlashCutHook } from './partition-io.js';
import type { PartitionTarget } from './partitions.js';
import { isSparseImage, writeSparseTo } from './sparse-writer.js';
import type { Slot } from './state-store.js';
import type { SuperPartition } from './super-partition.js';
import { updateSuper } from './update-super.js';

/** What the logical-partition operations need from the device (VirtualDevice implements it privately). */
export interface LogicalPort {
  /** The physical `super` (dynamic partitions), else null. */
  superPartition(): SuperPartition | null;
  /** Whether the device runs fastbootd now. */
  inFastbootd(): boolean;
  /** The active slot of the boot-control block. */
  activeSlot(): Slot;
  /** The download buffer's image, or null. */
  downloaded(): DownloadedImage | null;
  /** A physical partition by name (`boot` → `boot_<active>`), or null. */
  resolvePartition(arg: string): PartitionTarget | null;
  /** Power-loss fault hook: throws a PowerCutError when the fault names this stage and step. */
  cut(stage: PowerLossStage, at: number): void;
  /** Byte-offset power-loss hook for the writes. */
  readonly flashHook: FlashCutHook;
  /** The A/B slot rules (boot.ts) a slot's copy follows. */
  readonly boot: BootPort;
}

/**
 * A logical partition in super: `system_b`, or `system` for the active slot's copy; null when `arg` is not
 * one (or the device has no dynamic partitions).
 */
export function logicalPartition(port: LogicalPort, arg: string): { name: string; slot: Slot | null } | null {
  const sp = port.superPartition();
  if (!sp) return null;
  const m = /_([ab])$/.exec(arg);
  if (sp.has(arg)) return { name: arg, slot: m ? (m[1] as Slot) : null };
  const slotted = `${arg}_${port.activeSlot()}`;
  return sp.has(slotted) ? { name: slotted, slot: port.activeSlot() } : null;
}

/** Logical partitions are changed in fastbootd only, as a real bootloader refuses them. */
function fastbootdOnly(port: LogicalPort, what: string): SuperPartition {
  const sp = port.superPartition();
  if (!sp) throw new CommandFailure(`${what}: this device has no dynamic partitions`);
  if (!port.inFastbootd()) {
    throw new CommandFailure(
      `Partition should be flashed in fastbootd (${what}: logical partitions live in super; run fastboot reboot fastboot)`,
    );
  }
  return sp;
}

/** Write the download onto a logical partition through its extents; a slot's copy follows the slot rules. */
export async function flashLogical(port: LogicalPort, name: string, slot: Slot | null): Promise<void> {
  const sp = fastbootdOnly(port, `flash ${name}`);
  const image = port.downloaded();
  if (!image) throw new CommandFailure('no image downloaded: send download:<size> before flash');
  const sparse = await isSparseImage(image.path);
  const newSize = sparse ? sparse.expandedSize : image.size;
  const size = sp.sizeOf(name);
  if (newSize > size) {
    throw new CommandFailure(
      `image is ${newSize} bytes but logical partition ${name} holds ${size}; resize-logical-partition first`,
    );
  }
  const reactivate = slot ? await beginSlotWrite(port.boot, slot) : false;
  const sink = await sp.openSink(name);
  try {
    if (sparse) await writeSparseTo(image.path, sink, port.flashHook);
    else {
      const expected = await copyRawTo(image.path, sink, image.size, port.flashHook);
      const written = await sp.sha256(name, image.size);
      if (written !== expected) {
        throw new CommandFailure(`verification of ${name} failed: wrote ${written}, expected ${expected}`);
      }
    }
  } finally {
    await sink.close();
  }
  if (slot) await endSlotWrite(port.boot, slot, reactivate);
}

/** fastbootd: zero a logical partition through its extents; like a physical erase, its slot stays unbootable. */
export async function eraseLogical(port: LogicalPort, name: string, slot: Slot | null): Promise<void> {
  const sp = fastbootdOnly(port, `erase ${name}`);
  port.cut('erase', 0);
  if (slot) await beginSlotWrite(port.boot, slot);
  port.cut('erase', 1);
  await sp.zero(name);
}

/** fastbootd: `create-logical-partition NAME SIZE` (in the slot's group, `main_a`/`main_b`, or `default`). */
export async function createLogicalPartition(port: LogicalPort, name: string, size: number): Promise<void> {
  const sp = fastbootdOnly(port, `create-logical-partition ${name}`);
  if (port.resolvePartition(name)) throw new CommandFailure(`${name} is a physical partition`);
  const m = /_([ab])$/.exec(name);
  const groups = sp.metadata?.groups.map((g) => g.name) ?? [];
  const group = m && groups.includes(`main_${m[1]}`) ? `main_${m[1]}` : 'default';
  await sp.create(name, size, group);
}

export async function deleteLogicalPartition(port: LogicalPort, name: string): Promise<void> {
  await fastbootdOnly(port, `delete-logical-partition ${name}`).delete(name);
}

export async function resizeLogicalPartition(port: LogicalPort, name: string, size: number): Promise<void> {
  await fastbootdOnly(port, `resize-logical-partition ${name}`).resize(name, size);
}

/** fastbootd: `update-super NAME [wipe]` with a super_empty.img in the download buffer (update-super.ts). */
export async function updateSuperPartition(port: LogicalPort, name: string, wipe: boolean): Promise<void> {
  const sp = fastbootdOnly(port, `update-super ${name}`);
  const image = port.downloaded();
  if (!image) throw new CommandFailure('no image downloaded: send super_empty.img before update-super');
  if (name !== 'super') {
    throw new CommandFailure(`'${name}' is not this device's super partition (super-partition-name: super)`);
  }
  await updateSuper(sp, image, wipe, port.activeSlot());
}
