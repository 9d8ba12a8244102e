/**
 * Extent allocation on super metadata, following liblp's MetadataBuilder (builder.cpp): growing first extends
 * a partition's last extent up to the next aligned sector, then takes free regions in order of block device and
 * sector, each free region starting at a sector aligned to the block device's alignment; shrinking drops
 * sectors from the end.
 */
import { SuperLayoutError } from './errors.js';
import { LP_SECTOR_SIZE } from './format.js';
import type { SuperBlockDevice, SuperExtent, SuperMetadata, SuperPartition } from './types.js';

export function alignUp(value: number, alignment: number): number {
  if (alignment <= 0) return value;
  return Math.ceil(value / alignment) * alignment;
}

/** liblp AlignSector: the first sector at or after `sector` whose byte offset is a multiple of the alignment. */
export function alignSector(bd: SuperBlockDevice, sector: number): number {
  return alignUp(alignUp(sector * LP_SECTOR_SIZE, bd.alignment), LP_SECTOR_SIZE) / LP_SECTOR_SIZE;
}

export function extentsBytes(extents: readonly SuperExtent[]): number {
  return extents.reduce((n, e) => n + e.numSectors * LP_SECTOR_SIZE, 0);
}

interface Interval {
  device: number;
  start: number;
  end: number;
}

/** Free regions of every block device (liblp GetFreeRegions): gaps between extents, each starting aligned. */
function freeRegions(md: SuperMetadata): Interval[] {
  const out: Interval[] = [];
  md.blockDevices.forEach((bd, device) => {
    const used: { start: number; end: number }[] = [];
    for (const p of md.partitions) {
      for (const e of p.extents) {
        if (e.type === 'linear' && e.targetSource === device) {
          used.push({ start: e.targetData, end: e.targetData + e.numSectors });
        }
      }
    }
    const first = bd.firstLogicalSector;
    const last = Math.floor(bd.size / LP_SECTOR_SIZE);
    used.push({ start: first, end: first }, { start: last, end: last });
    used.sort((a, b) => a.start - b.start || a.end - b.end);
    for (let i = 1; i < used.length; i++) {
      const aligned = alignSector(bd, used[i - 1]!.end);
      if (aligned >= used[i]!.start) continue;
      out.push({ device, start: aligned, end: used[i]!.start });
    }
  });
  return out;
}

function isAllocated(md: SuperMetadata, device: number, start: number, end: number): boolean {
  return md.partitions.some((p) =>
    p.extents.some(
      (e) =>
        e.type === 'linear' &&
        e.targetSource === device &&
        e.targetData < end &&
        start < e.targetData + e.numSectors,
    ),
  );
}

export function grow(md: SuperMetadata, p: SuperPartition, sectorsNeeded: number): SuperExtent[] {
  const sectorsPerBlock = md.geometry.logicalBlockSize / LP_SECTOR_SIZE;
  const regions = freeRegions(md);
  const added: SuperExtent[] = [];
  let needed = sectorsNeeded;
  // The sectors between the last extent's end and the next aligned sector are usable only by this partition.
  const lastExtent = p.extents[p.extents.length - 1];
  if (lastExtent?.type === 'linear') {
    const bd = md.blockDevices[lastExtent.targetSource]!;
    const end = lastExtent.targetData + lastExtent.numSectors;
    const next = Math.min(alignSector(bd, end), Math.floor(bd.size / LP_SECTOR_SIZE));
    if (next > end && !isAllocated(md, lastExtent.targetSource, end, next)) {
      const take = Math.min(next - end, needed);
      added.push({
        type: 'linear',
        numSectors: take,
        targetData: end,
        targetSource: lastExtent.targetSource,
      });
      needed -= take;
    }
  }
  for (const region of regions) {
    if (needed === 0) break;
    const usable = Math.floor((region.end - region.start) / sectorsPerBlock) * sectorsPerBlock;
    if (usable === 0) continue;
    const take = Math.min(needed, usable);
    added.push({ type: 'linear', numSectors: take, targetData: region.start, targetSource: region.device });
    needed -= take;
  }
  if (needed > 0) {
    throw new SuperLayoutError(
      `not enough free space in super for '${p.name}': ${sectorsNeeded * LP_SECTOR_SIZE} more bytes needed, ${freeBytes(md)} free; delete or shrink other logical partitions (or wipe super with a layout that fits)`,
      { partition: p.name, needed: sectorsNeeded * LP_SECTOR_SIZE, free: freeBytes(md) },
    );
  }
  return [...p.extents, ...added];
}

export function shrink(extents: readonly SuperExtent[], sectors: number): SuperExtent[] {
  const out: SuperExtent[] = [];
  let left = sectors;
  for (const e of extents) {
    if (left === 0) break;
    const take = Math.min(left, e.numSectors);
    out.push(take === e.numSectors ? e : { ...e, numSectors: take });
    left -= take;
  }
  return out;
}

/** Bytes that can still be allocated to logical partitions (free regions rounded down to whole blocks). */
export function freeBytes(metadata: SuperMetadata): number {
  const sectorsPerBlock = metadata.geometry.logicalBlockSize / LP_SECTOR_SIZE;
  return freeRegions(metadata).reduce(
    (n, r) => n + Math.floor((r.end - r.start) / sectorsPerBlock) * sectorsPerBlock * LP_SECTOR_SIZE,
    0,
  );
}
