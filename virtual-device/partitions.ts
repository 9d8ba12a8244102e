/**
 * Partition naming on an A/B layout: a slotted partition `boot` exists as `boot_a` and `boot_b`, and the
 * slot-less name means the active slot's copy (as fastboot does). Pure functions of the layout.
 */
import { type Layout, type PartitionSpec, SLOTS, type Slot } from './state-store.js';

export interface PartitionTarget {
  readonly name: string;
  readonly spec: PartitionSpec;
  readonly slot: Slot | null;
}

/** Every partition's storage name, slot copies included. */
export function partitionNames(layout: Layout): string[] {
  return layout.partitions.flatMap((p) => (p.slotted ? SLOTS.map((s) => `${p.name}_${s}`) : [p.name]));
}

/** `boot` → `boot_<active>`, `boot_a` → itself; null when there is no such partition. */
export function resolvePartition(layout: Layout, active: Slot, arg: string): PartitionTarget | null {
  for (const spec of layout.partitions) {
    if (!spec.slotted && arg === spec.name) return { name: arg, spec, slot: null };
    if (spec.slotted) {
      if (arg === spec.name) return { name: `${arg}_${active}`, spec, slot: active };
      for (const s of SLOTS) if (arg === `${spec.name}_${s}`) return { name: arg, spec, slot: s };
    }
  }
  return null;
}
