/**
 * The two ways fastbootd's `update-super` applies a new layout: merge it with the current one (keeping the
 * other slot's partitions) or wipe and replace. Both return new metadata or throw SuperLayoutError.
 */
import { SuperFormatError, SuperLayoutError } from './errors.js';
import { extentsBytes } from './extent-allocation.js';
import { checked, replacePartition, withMinorFor } from './layout-edit.js';
import type { SuperMetadata, SuperPartition } from './types.js';
import { validateSuperMetadata } from './validate.js';

export interface MergeLayoutOptions {
  /**
   * Which of the current partitions keep their extents (default: as fastbootd's update-super — every partition
   * except those of `currentSlotSuffix`, the `cow` group's, and `scratch`).
   */
  readonly keep?: (name: string, group: string) => boolean;
  /** The device's current slot suffix (`_a`/`_b`); its partitions are rewritten, so they are not kept. */
  readonly currentSlotSuffix?: string;
  /** Virtual A/B devices keep neither slot's partitions (fastbootd: ro.virtual_ab.enabled). */
  readonly virtualAb?: boolean;
}

function slotSuffix(name: string): string {
  const m = /(_[a-z])$/.exec(name);
  return m ? m[1]! : '';
}

/**
 * What fastbootd's `update-super` does without wipe (flashing.cpp UpdateSuper + builder ImportPartitions):
 * start from the new layout, then carry over the kept partitions of the current metadata with their extents
 * (by default every partition not of the current slot). Refused, "wipe needed", when the block devices differ,
 * a kept partition's group is missing from the new layout, the new layout already gives it space, or the
 * group limits or extents no longer fit.
 */
export function mergeLayout(
  current: SuperMetadata,
  next: SuperMetadata,
  options: MergeLayoutOptions = {},
): SuperMetadata {
  const { currentSlotSuffix = '', virtualAb = false } = options;
  const otherSuffix = currentSlotSuffix === '_a' ? '_b' : currentSlotSuffix === '_b' ? '_a' : '';
  const keep =
    options.keep ??
    ((name: string, group: string) => {
      if (currentSlotSuffix) {
        const s = slotSuffix(name);
        if (s === currentSlotSuffix || (virtualAb && s === otherSuffix)) return false;
      }
      return group !== 'cow' && name !== 'scratch';
    });
  const kept = current.partitions.filter((p) => keep(p.name, p.group));
  if (kept.length === 0) return checked(next);
  const wipe = 'Old partitions are not compatible with the new super layout; wipe needed';
  const same =
    current.blockDevices.length === next.blockDevices.length &&
    current.blockDevices.every((a, i) => {
      const b = next.blockDevices[i]!;
      return (
        a.firstLogicalSector === b.firstLogicalSector &&
        a.size === b.size &&
        a.partitionName === b.partitionName
      );
    });
  if (!same) throw new SuperLayoutError(`${wipe}: the block devices (size, first sector or name) differ`);
  let md = next;
  for (const old of kept) {
    const existing = md.partitions.find((p) => p.name === old.name);
    if (existing && extentsBytes(existing.extents) > 0) {
      throw new SuperLayoutError(`${wipe}: the new layout already gives '${old.name}' space`, {
        partition: old.name,
      });
    }
    if (!existing && !md.groups.some((g) => g.name === old.group)) {
      throw new SuperLayoutError(
        `${wipe}: '${old.name}' belongs to group '${old.group}', which the new layout lacks`,
        {
          partition: old.name,
        },
      );
    }
    const merged: SuperPartition = existing ? { ...existing, extents: old.extents } : old;
    md = withMinorFor(md, merged.attributes);
    md = existing ? replacePartition(md, merged) : { ...md, partitions: [...md.partitions, merged] };
  }
  try {
    validateSuperMetadata(md);
  } catch (err) {
    if (err instanceof SuperFormatError) throw new SuperLayoutError(`${wipe}: ${err.message}`);
    throw err;
  }
  return md;
}

/**
 * What `update-super` with wipe does: the new layout replaces everything, as is. Refused when it was built for
 * a different super (liblp compares the block device size with the device's partition on the device).
 */
export function wipeLayout(next: SuperMetadata, superSize: number, superName?: string): SuperMetadata {
  const bd = next.blockDevices[0];
  if (!bd) throw new SuperLayoutError('the new super layout has no block device');
  if (superName !== undefined && bd.partitionName !== superName) {
    throw new SuperLayoutError(
      `the super layout is for partition '${bd.partitionName}', this device's super partition is '${superName}'`,
    );
  }
  if (bd.size !== superSize) {
    throw new SuperLayoutError(
      bd.size > superSize
        ? `the super layout needs a super of ${bd.size} bytes, larger than this device's ${superSize} bytes; use the image made for this device`
        : `the super layout was made for a super of ${bd.size} bytes, this device's is ${superSize} bytes; use the image made for this device`,
      { layoutSize: bd.size, superSize },
    );
  }
  return checked(next);
}
