/**
 * Pure layout operations on super metadata, following liblp's MetadataBuilder (builder.cpp): sizes are rounded
 * up to the logical block size; growing first extends a partition's last extent up to the next aligned sector,
 * then takes free regions in order of block device and sector, each free region starting at a sector aligned
 * to the block device's alignment; shrinking drops sectors from the end; groups with a maximum size cap the
 * sum of their partitions. Every operation returns new metadata (inputs are never changed) that passes
 * validateSuperMetadata, or throws SuperLayoutError saying why not.
 */
import { isValidSuperName, validateSuperMetadata } from './codec.js';
import { SuperFormatError, SuperLayoutError } from './errors.js';
import {
  LP_DEFAULT_GROUP,
  LP_DEFAULT_SUPER_NAME,
  LP_MAJOR_VERSION,
  LP_SECTOR_SIZE,
  PARTITION_ATTRIBUTE_MASK_V0,
  PARTITION_ATTRIBUTE_MASK_V1,
  totalMetadataSize,
} from './format.js';
import {
  BLOCK_DEVICE_FLAG,
  GROUP_FLAG,
  type LogicalExtentRange,
  PARTITION_ATTRIBUTE,
  type SuperBlockDevice,
  type SuperExtent,
  type SuperGroup,
  type SuperMetadata,
  type SuperPartition,
} from './types.js';

export interface NewSuperOptions {
  /** Size of the super partition in bytes (a multiple of the logical block size). */
  readonly size: number;
  /** Default `super`. */
  readonly superName?: string;
  /** Default 65536 (what AOSP builds use); rounded up to 512. */
  readonly metadataMaxSize?: number;
  /** Default 2 (A/B). */
  readonly metadataSlotCount?: number;
  /** Default 4096. */
  readonly logicalBlockSize?: number;
  /** Extent alignment in bytes; default 1 MiB (liblp's default partition alignment). */
  readonly alignment?: number;
  readonly alignmentOffset?: number;
  /** Header flags; non-zero flags make the header version 10.2. */
  readonly headerFlags?: number;
  readonly groups?: readonly {
    readonly name: string;
    readonly maximumSize: number;
    readonly flags?: number;
  }[];
  readonly partitions?: readonly {
    readonly name: string;
    readonly group?: string;
    readonly size: number;
    readonly attributes?: number;
  }[];
}

export interface CreatePartitionRequest {
  readonly name: string;
  /** Default `default`. */
  readonly group?: string;
  /** Bytes; rounded up to the logical block size. 0 creates an empty partition (as super_empty.img holds). */
  readonly size: number;
  /** Bit set of PARTITION_ATTRIBUTE; default readonly (as AOSP builds mark system/vendor/product). */
  readonly attributes?: number;
}

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

const DEFAULT_METADATA_MAX_SIZE = 65536;
const DEFAULT_BLOCK_SIZE = 4096;
const DEFAULT_ALIGNMENT = 1024 * 1024;

function alignUp(value: number, alignment: number): number {
  if (alignment <= 0) return value;
  return Math.ceil(value / alignment) * alignment;
}

/** liblp AlignSector: the first sector at or after `sector` whose byte offset is a multiple of the alignment. */
function alignSector(bd: SuperBlockDevice, sector: number): number {
  return alignUp(alignUp(sector * LP_SECTOR_SIZE, bd.alignment), LP_SECTOR_SIZE) / LP_SECTOR_SIZE;
}

function extentsBytes(extents: readonly SuperExtent[]): number {
  return extents.reduce((n, e) => n + e.numSectors * LP_SECTOR_SIZE, 0);
}

function findPartition(md: SuperMetadata, name: string): SuperPartition {
  const p = md.partitions.find((x) => x.name === name);
  if (!p) {
    throw new SuperLayoutError(
      `there is no logical partition '${name}' in super (it has: ${md.partitions.map((x) => x.name).join(', ') || 'none'})`,
      { partition: name },
    );
  }
  return p;
}

function groupUsed(md: SuperMetadata, group: string, except?: string): number {
  return md.partitions
    .filter((p) => p.group === group && p.name !== except)
    .reduce((n, p) => n + extentsBytes(p.extents), 0);
}

/** Re-validate an operation's result; a failure here means the request itself was impossible. */
function checked(md: SuperMetadata): SuperMetadata {
  try {
    validateSuperMetadata(md);
  } catch (err) {
    if (err instanceof SuperFormatError)
      throw new SuperLayoutError(`the resulting super layout is not valid: ${err.message}`);
    throw err;
  }
  return md;
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

function grow(md: SuperMetadata, p: SuperPartition, sectorsNeeded: number): SuperExtent[] {
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

function shrink(extents: readonly SuperExtent[], sectors: number): SuperExtent[] {
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

function replacePartition(md: SuperMetadata, p: SuperPartition): SuperMetadata {
  return { ...md, partitions: md.partitions.map((x) => (x.name === p.name ? p : x)) };
}

function withMinorFor(md: SuperMetadata, attributes: number): SuperMetadata {
  if ((attributes & PARTITION_ATTRIBUTE_MASK_V1) === 0 || md.header.minor >= 1) return md;
  return { ...md, header: { ...md.header, minor: 1 } };
}

/** A fresh layout (what lpmake / MetadataBuilder::New build): one super block device, the `default` group. */
export function newSuperMetadata(options: NewSuperOptions): SuperMetadata {
  const logicalBlockSize = options.logicalBlockSize ?? DEFAULT_BLOCK_SIZE;
  const metadataMaxSize = alignUp(options.metadataMaxSize ?? DEFAULT_METADATA_MAX_SIZE, LP_SECTOR_SIZE);
  const metadataSlotCount = options.metadataSlotCount ?? 2;
  const alignment = options.alignment ?? DEFAULT_ALIGNMENT;
  const alignmentOffset = options.alignmentOffset ?? 0;
  const superName = options.superName ?? LP_DEFAULT_SUPER_NAME;
  const { size } = options;
  if (!isValidSuperName(superName))
    throw new SuperLayoutError(`super partition name '${superName}' is not valid`);
  if (
    !Number.isSafeInteger(logicalBlockSize) ||
    logicalBlockSize <= 0 ||
    logicalBlockSize % LP_SECTOR_SIZE !== 0
  ) {
    throw new SuperLayoutError(`logical block size ${logicalBlockSize} is not a positive multiple of 512`);
  }
  if (!Number.isSafeInteger(size) || size <= 0 || size % logicalBlockSize !== 0) {
    throw new SuperLayoutError(
      `super size ${size} is not a positive multiple of the block size ${logicalBlockSize}`,
    );
  }
  if (!Number.isSafeInteger(alignment) || alignment < 0 || alignment % LP_SECTOR_SIZE !== 0) {
    throw new SuperLayoutError(`alignment ${alignment} is not a multiple of 512`);
  }
  if (
    !Number.isSafeInteger(alignmentOffset) ||
    alignmentOffset < 0 ||
    alignmentOffset % LP_SECTOR_SIZE !== 0
  ) {
    throw new SuperLayoutError(`alignment offset ${alignmentOffset} is not a multiple of 512`);
  }
  const reserved = totalMetadataSize({ metadataMaxSize, metadataSlotCount });
  const firstFree = alignUp(reserved, alignment || logicalBlockSize);
  if (size < firstFree + logicalBlockSize) {
    throw new SuperLayoutError(
      `a super of ${size} bytes cannot hold its ${reserved} bytes of metadata and one logical block; it must be at least ${firstFree + logicalBlockSize} bytes`,
    );
  }
  const headerFlags = options.headerFlags ?? 0;
  let md: SuperMetadata = {
    geometry: { metadataMaxSize, metadataSlotCount, logicalBlockSize },
    header: { major: LP_MAJOR_VERSION, minor: headerFlags ? 2 : 0, flags: headerFlags },
    partitions: [],
    groups: [{ name: LP_DEFAULT_GROUP, flags: 0, maximumSize: 0 }],
    blockDevices: [
      {
        partitionName: superName,
        firstLogicalSector: firstFree / LP_SECTOR_SIZE,
        alignment,
        alignmentOffset,
        size,
        flags: 0,
      },
    ],
  };
  try {
    validateSuperMetadata(md);
  } catch (err) {
    if (err instanceof SuperFormatError)
      throw new SuperLayoutError(`cannot build this super layout: ${err.message}`);
    throw err;
  }
  for (const g of options.groups ?? []) md = addGroup(md, g);
  for (const p of options.partitions ?? []) md = createPartition(md, p);
  return md;
}

/** Add a partition group (`maximumSize` 0 = unlimited). */
export function addGroup(
  metadata: SuperMetadata,
  group: { readonly name: string; readonly maximumSize: number; readonly flags?: number },
): SuperMetadata {
  if (!isValidSuperName(group.name)) {
    throw new SuperLayoutError(
      `group name ${JSON.stringify(group.name)} is not 1–35 printable ASCII characters`,
    );
  }
  if (metadata.groups.some((g) => g.name === group.name)) {
    throw new SuperLayoutError(`group '${group.name}' already exists`);
  }
  if (!Number.isSafeInteger(group.maximumSize) || group.maximumSize < 0) {
    throw new SuperLayoutError(`group '${group.name}' has an invalid maximum size ${group.maximumSize}`);
  }
  const g: SuperGroup = { name: group.name, flags: group.flags ?? 0, maximumSize: group.maximumSize };
  return checked({ ...metadata, groups: [...metadata.groups, g] });
}

/** Create a logical partition of `size` bytes (rounded up to the logical block size) in `group`. */
export function createPartition(metadata: SuperMetadata, request: CreatePartitionRequest): SuperMetadata {
  const { name } = request;
  const group = request.group ?? LP_DEFAULT_GROUP;
  const attributes = request.attributes ?? 1;
  if (!isValidSuperName(name)) {
    throw new SuperLayoutError(
      `logical partition name ${JSON.stringify(name)} is not 1–35 printable ASCII characters`,
    );
  }
  if (metadata.partitions.some((p) => p.name === name)) {
    throw new SuperLayoutError(`logical partition '${name}' already exists; resize or delete it instead`, {
      partition: name,
    });
  }
  if (!metadata.groups.some((g) => g.name === group)) {
    throw new SuperLayoutError(
      `partition group '${group}' does not exist in super (it has: ${metadata.groups.map((g) => g.name).join(', ')})`,
    );
  }
  if (
    !Number.isSafeInteger(attributes) ||
    attributes < 0 ||
    (attributes & ~(PARTITION_ATTRIBUTE_MASK_V0 | PARTITION_ATTRIBUTE_MASK_V1)) !== 0
  ) {
    throw new SuperLayoutError(`attributes 0x${attributes.toString(16)} are not valid partition attributes`);
  }
  const base = withMinorFor(metadata, attributes);
  const created: SuperMetadata = {
    ...base,
    partitions: [...base.partitions, { name, attributes, group, extents: [] }],
  };
  return resizePartition(created, name, request.size);
}

/** Delete a logical partition (its extents become free space). */
export function deletePartition(metadata: SuperMetadata, name: string): SuperMetadata {
  findPartition(metadata, name);
  return { ...metadata, partitions: metadata.partitions.filter((p) => p.name !== name) };
}

/** Resize a logical partition to `size` bytes (rounded up to the logical block size). */
export function resizePartition(metadata: SuperMetadata, name: string, size: number): SuperMetadata {
  const p = findPartition(metadata, name);
  if (!Number.isSafeInteger(size) || size < 0) {
    throw new SuperLayoutError(`size ${size} for '${name}' is not a byte count`, { partition: name });
  }
  const aligned = alignUp(size, metadata.geometry.logicalBlockSize);
  const old = extentsBytes(p.extents);
  if (aligned === old) return metadata;
  if (aligned < old)
    return replacePartition(metadata, { ...p, extents: shrink(p.extents, aligned / LP_SECTOR_SIZE) });
  const group = metadata.groups.find((g) => g.name === p.group)!;
  if (group.maximumSize > 0) {
    const used = groupUsed(metadata, group.name, name);
    if (used + aligned > group.maximumSize) {
      throw new SuperLayoutError(
        `'${name}' cannot grow to ${aligned} bytes: its group '${group.name}' allows ${group.maximumSize} bytes and the other partitions in it take ${used}`,
        { partition: name, group: group.name, maximumSize: group.maximumSize, used },
      );
    }
  }
  const extents = grow(metadata, p, (aligned - old) / LP_SECTOR_SIZE);
  return checked(replacePartition(metadata, { ...p, extents }));
}

/** Size in bytes of a logical partition (sum of its extents). */
export function partitionSize(metadata: SuperMetadata, name: string): number {
  return extentsBytes(findPartition(metadata, name).extents);
}

/** Bytes that can still be allocated to logical partitions (free regions rounded down to whole blocks). */
export function freeBytes(metadata: SuperMetadata): number {
  const sectorsPerBlock = metadata.geometry.logicalBlockSize / LP_SECTOR_SIZE;
  return freeRegions(metadata).reduce(
    (n, r) => n + Math.floor((r.end - r.start) / sectorsPerBlock) * sectorsPerBlock * LP_SECTOR_SIZE,
    0,
  );
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
