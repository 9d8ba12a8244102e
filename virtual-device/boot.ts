/**
 * The virtual device's A/B boot logic, apart from the device model (device.ts): every change of the
 * boot-control block — slot writes, set_active, which slot boots (retries, fallback, anti-rollback at boot)
 * and mark-successful. It works on the device's live state through a `BootPort`, so persistence, the
 * lost-power checks and the fault hooks stay with the device and are the same for every operation.
 */
import { promises as fs } from 'node:fs';
import { bootImageMetadata } from './boot-image-info.js';
import { CommandFailure } from './device-errors.js';
import type { PowerLossStage } from './faults.js';
import { IMAGE_HEADER_SIZE, type ImageMetadata } from './image-metadata.js';
import { type BootControl, otherSlot, SLOTS, type Slot } from './state-store.js';

/** The running system: the slot it booted from and its image's header. */
export interface BootedSlot {
  readonly slot: Slot;
  readonly meta: ImageMetadata;
  /** The slot was written after it booted: it can no longer be committed by mark-successful. */
  readonly stale?: boolean;
}

/** What the boot logic needs from the device (VirtualDevice implements it privately). */
export interface BootPort {
  /** The live boot-control block: changed in place, persisted by saveBootControl(). */
  bootControl(): BootControl;
  /** The secure element's rollback index now. */
  rollbackIndex(): number;
  /** Slots a `--bad-boot` fault makes fail to boot. */
  badBootSlots(): readonly Slot[] | undefined;
  maxRetries(): number;
  contentSize(partition: string): number;
  partitionPath(partition: string): string;
  /** Persist bootControl(); refuses once the device has lost power. */
  saveBootControl(): Promise<void>;
  /** Secure element rollback index := max(current, to); refuses once the device has lost power. */
  raiseRollbackIndex(to: number): Promise<void>;
  /** Power-loss fault hook: throws a PowerCutError when the fault names this stage and step. */
  cut(stage: PowerLossStage, at: number): void;
  /** The running system, or null in the bootloader. */
  booted(): BootedSlot | null;
  /** The OS is up on this slot; called before the rollback-index repair write, which may fail. */
  enterOs(booted: BootedSlot): void;
  /** The running system's slot is being written: mark it stale. */
  markBootedStale(): void;
}

/**
 * Before writing a slot: mark it unbootable, and if it is the active slot, make the other slot active so
 * the active slot is never the one being written. Refuses when that would leave no bootable slot.
 * Returns whether the slot was active (pass it to endSlotWrite).
 */
export async function beginSlotWrite(port: BootPort, slot: Slot): Promise<boolean> {
  const bc = port.bootControl();
  const other = otherSlot(slot);
  const wasActive = bc.active === slot;
  if (wasActive && bc.slots[other].unbootable) {
    throw new CommandFailure(
      `cannot write slot ${slot}: it is active and slot ${other} is not bootable; flash slot ${other} first`,
    );
  }
  bc.slots[slot] = { ...bc.slots[slot], unbootable: true, successful: false };
  if (wasActive) bc.active = other;
  // The running system's slot is being replaced: it can no longer be committed by mark-successful.
  if (port.booted()?.slot === slot) port.markBootedStale();
  await port.saveBootControl();
  return wasActive;
}

/** After a complete write: the slot is bootable again with full retries (and active again if it was). */
export async function endSlotWrite(port: BootPort, slot: Slot, reactivate: boolean): Promise<void> {
  const bc = port.bootControl();
  bc.slots[slot] = { retryCount: port.maxRetries(), successful: false, unbootable: false };
  if (reactivate) bc.active = slot;
  await port.saveBootControl();
}

/** set_active: `a`, `b`, `_a` or `_b`; refused for an unbootable slot. The slot gets full retries. */
export async function setActiveSlot(port: BootPort, arg: string): Promise<void> {
  const slot = SLOTS.find((s) => s === arg || `_${s}` === arg);
  if (!slot) throw new CommandFailure(`invalid slot '${arg}': use a or b`);
  if (port.bootControl().slots[slot].unbootable) {
    throw new CommandFailure(
      `slot ${slot} is not bootable (its last write did not complete); flash it first`,
    );
  }
  port.cut('set_active', 0);
  const bc = port.bootControl();
  bc.active = slot;
  bc.slots[slot] = { retryCount: port.maxRetries(), successful: false, unbootable: false };
  await port.saveBootControl();
  port.cut('set_active', 1);
}

/** The header of a slot's boot image, or null when that slot cannot boot (empty, faulted, rolled back). */
async function bootImage(port: BootPort, slot: Slot): Promise<ImageMetadata | null> {
  if (port.badBootSlots()?.includes(slot)) return null;
  if (port.contentSize(`boot_${slot}`) === 0) return null;
  const h = await fs.open(port.partitionPath(`boot_${slot}`), 'r');
  let header: Buffer;
  try {
    const { buffer, bytesRead } = await h.read(Buffer.alloc(IMAGE_HEADER_SIZE), 0, IMAGE_HEADER_SIZE, 0);
    header = buffer.subarray(0, bytesRead);
  } finally {
    await h.close();
  }
  const meta = bootImageMetadata(header);
  // Anti-rollback, as AVB does: an image older than the secure element's index does not boot.
  return meta.rollbackIndex < port.rollbackIndex() ? null : meta;
}

/**
 * Boot the active slot. An unsuccessful slot burns a retry per attempt; a slot out of retries is marked
 * unbootable and the other slot becomes active — but the last bootable slot is never marked unbootable:
 * if it cannot boot either, this returns false and the device stays in the bootloader (fastboot) so it can
 * be reflashed. Returns true once port.enterOs() has been called.
 */
export async function bootActiveSlot(port: BootPort, fromReboot: boolean): Promise<boolean> {
  let step = 0;
  const persist = async () => {
    await port.saveBootControl();
    if (fromReboot) port.cut('reboot', ++step);
  };
  if (fromReboot) port.cut('reboot', 0);
  const bc = port.bootControl();
  for (let attempt = 0; attempt < 4 * (port.maxRetries() + 2); attempt++) {
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
    const meta = await bootImage(port, slot);
    if (meta) {
      port.enterOs({ slot, meta });
      // Finish a mark-successful that power loss interrupted between its two writes.
      if (bc.slots[slot].successful) await port.raiseRollbackIndex(meta.rollbackIndex);
      return true;
    }
    if (bc.slots[slot].successful) {
      bc.slots[slot] = { ...bc.slots[slot], successful: false };
      await persist();
    }
  }
  return false;
}

/**
 * Commit the booted slot, then raise the secure element's rollback index to max(current, booted image's).
 * The writes are in this order so a cut between them is repaired at the next boot (see bootActiveSlot).
 */
export async function markSuccessful(port: BootPort): Promise<void> {
  const booted = port.booted();
  if (!booted) throw new CommandFailure('no slot is booted (device is in the bootloader); reboot first');
  if (booted.stale || port.bootControl().active !== booted.slot) {
    throw new CommandFailure(`slot ${booted.slot} changed since it booted; reboot before mark-successful`);
  }
  port.cut('mark-successful', 0);
  port.bootControl().slots[booted.slot] = {
    retryCount: port.maxRetries(),
    successful: true,
    unbootable: false,
  };
  await port.saveBootControl();
  port.cut('mark-successful', 1);
  await port.raiseRollbackIndex(booted.meta.rollbackIndex);
  port.cut('mark-successful', 2);
}
