/**
 * The logical images of an Android image: which partitions super_empty.img makes logical, and whether each
 * slot's logical images fit the layout.
 */
import type { SuperMetadata } from '../../protocol/fastboot/super/index.js';
import type { PlannedImage } from './import-types.js';
import { refuse } from './source-contract.js';

/** super_empty.img is geometry plus one metadata copy: kilobytes. More is not a super_empty.img. */
export const MAX_SUPER_EMPTY_BYTES = 4 * 1024 * 1024;

/** Partitions that are logical on every Android 10+ device with dynamic partitions. */
export const KNOWN_LOGICAL = [
  'system',
  'system_ext',
  'system_dlkm',
  'vendor',
  'vendor_dlkm',
  'product',
  'odm',
  'odm_dlkm',
] as const;

/** Base names of the layout's partitions (`system_a` → `system`), and whether they come per slot. */
export function logicalNames(md: SuperMetadata): Map<string, { slotted: boolean; names: string[] }> {
  const out = new Map<string, { slotted: boolean; names: string[] }>();
  for (const p of md.partitions) {
    const m = /^(.+)_([ab])$/.exec(p.name);
    const base = m ? m[1]! : p.name;
    const prev = out.get(base);
    if (prev) prev.names.push(p.name);
    else out.set(base, { slotted: m !== null, names: [p.name] });
  }
  return out;
}

/** Each slot's logical images must fit their groups' maximum sizes and the super block device. */
export function checkFits(
  md: SuperMetadata,
  logical: Map<string, { slotted: boolean; names: string[] }>,
  images: readonly PlannedImage[],
  where: string,
): void {
  const device = md.blockDevices[0];
  const usable = device ? device.size - device.firstLogicalSector * 512 : Number.POSITIVE_INFINITY;
  const perGroup = new Map<string, number>();
  let total = 0;
  for (const img of images) {
    if (img.kind !== 'logical') continue;
    const l = logical.get(img.partition)!;
    // The slot Flashline writes is decided on the device; the `_a` entry stands for either slot's group.
    const name = l.names.find((n) => n.endsWith('_a')) ?? l.names[0]!;
    const part = md.partitions.find((p) => p.name === name)!;
    const group = md.groups.find((g) => g.name === part.group);
    const bytes = img.expandedSize;
    if (bytes > usable) {
      throw refuse(
        `${where}: ${img.file} is ${bytes} bytes once written, larger than the whole super partition in super_empty.img (${usable} bytes usable). The image does not fit; it is not for this layout.`,
        'image_too_large',
        { partition: img.partition, size: bytes, limit: usable },
      );
    }
    total += bytes;
    if (group && group.maximumSize > 0) {
      const sum = (perGroup.get(group.name) ?? 0) + bytes;
      perGroup.set(group.name, sum);
      if (sum > group.maximumSize) {
        throw refuse(
          `${where}: ${img.file} does not fit its group ${group.name} in super_empty.img: the group's partitions need ${sum} bytes, its maximum is ${group.maximumSize}.`,
          'image_too_large',
          { partition: img.partition, group: group.name, size: sum, limit: group.maximumSize },
        );
      }
    }
  }
  if (total > usable) {
    throw refuse(
      `${where}: the logical images need ${total} bytes per slot, more than super_empty.img's super partition holds (${usable} bytes usable).`,
      'image_too_large',
      { size: total, limit: usable },
    );
  }
}
