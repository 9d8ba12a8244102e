/**
 * Views of super metadata: a logical partition's byte ranges inside super, and the names a device sees for one
 * metadata slot.
 */
import { SuperLayoutError } from './errors.js';
import { LP_SECTOR_SIZE } from './format.js';
import { findPartition } from './layout-edit.js';
import {
  BLOCK_DEVICE_FLAG,
  GROUP_FLAG,
  type LogicalExtentRange,
  PARTITION_ATTRIBUTE,
  type SuperMetadata,
} from './types.js';
import { isValidSuperName } from './validate.js';

/** Byte ranges of a logical partition, in partition order (for writing or reading its content). */
export function logicalPartitionExtents(metadata: SuperMetadata, name: string): LogicalExtentRange[] {
  const p = findPartition(metadata, name);
  const out: LogicalExtentRange[] = [];
  let logicalOffset = 0;
  for (const e of p.extents) {
    const length = e.numSectors * LP_SECTOR_SIZE;
    if (e.type === 'linear') {
      const bd = metadata.blockDevices[e.targetSource];
      if (!bd)
        throw new SuperLayoutError(
          `'${name}' has an extent on block device ${e.targetSource}, which does not exist`,
        );
      out.push({
        type: 'linear',
        logicalOffset,
        offset: e.targetData * LP_SECTOR_SIZE,
        length,
        blockDevice: bd.partitionName,
      });
    } else {
      out.push({ type: 'zero', logicalOffset, length });
    }
    logicalOffset += length;
  }
  return out;
}

/** The slot suffix of metadata slot `slot` (0 → `_a`, 1 → `_b`, …), as liblp's SlotSuffixForSlotNumber. */
export function slotSuffixForSlot(slot: number): string {
  if (!Number.isInteger(slot) || slot < 0 || slot > 25)
    throw new SuperLayoutError(`slot ${slot} has no suffix`);
  return `_${String.fromCharCode(0x61 + slot)}`;
}

/**
 * The names a device sees for slot `slot` (liblp reader AdjustMetadataForSlot, used on retrofit devices):
 * SLOT_SUFFIXED partitions, groups and block devices get the slot's suffix and lose the flag.
 */
export function metadataForSlot(metadata: SuperMetadata, slot: number): SuperMetadata {
  const suffix = slotSuffixForSlot(slot);
  const rename = (name: string) => {
    if (!isValidSuperName(name + suffix))
      throw new SuperLayoutError(`'${name}${suffix}' is too long for a name`);
    return name + suffix;
  };
  const groupNames = new Map<string, string>();
  const groups = metadata.groups.map((g) => {
    const suffixed = (g.flags & GROUP_FLAG.slotSuffixed) !== 0;
    const name = suffixed ? rename(g.name) : g.name;
    groupNames.set(g.name, name);
    return suffixed ? { ...g, name, flags: g.flags & ~GROUP_FLAG.slotSuffixed } : g;
  });
  return {
    ...metadata,
    groups,
    partitions: metadata.partitions.map((p) => ({
      ...p,
      name: p.attributes & PARTITION_ATTRIBUTE.slotSuffixed ? rename(p.name) : p.name,
      attributes: p.attributes & ~PARTITION_ATTRIBUTE.slotSuffixed,
      group: groupNames.get(p.group) ?? p.group,
    })),
    blockDevices: metadata.blockDevices.map((b) =>
      b.flags & BLOCK_DEVICE_FLAG.slotSuffixed
        ? { ...b, partitionName: rename(b.partitionName), flags: b.flags & ~BLOCK_DEVICE_FLAG.slotSuffixed }
        : b,
    ),
  };
}
