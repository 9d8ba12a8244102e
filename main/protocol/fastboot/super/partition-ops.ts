/**
 * Pure layout operations on super metadata, following liblp's MetadataBuilder (builder.cpp): sizes are rounded
 * up to the logical block size; growing first extends a partition's last extent up to the next aligned sector,
 * then takes free regions in order of block device and sector, each free region starting at a sector aligned
 * to the block device's alignment; shrinking drops sectors from the end; groups with a maximum size cap the
 * sum of their partitions. Every operation returns new metadata (inputs are never changed) that passes
 * validateSuperMetadata, or throws SuperLayoutError saying why not.
 */
import { SuperFormatError, SuperLayoutError } from './errors.js';
import { alignUp, extentsBytes, grow, shrink } from './extent-allocation.js';
import {
  LP_DEFAULT_GROUP,
  LP_DEFAULT_SUPER_NAME,
  LP_MAJOR_VERSION,
  LP_SECTOR_SIZE,
  PARTITION_ATTRIBUTE_MASK_V0,
  PARTITION_ATTRIBUTE_MASK_V1,
  totalMetadataSize,
} from './format.js';
import { checked, findPartition, groupUsed, replacePartition, withMinorFor } from './layout-edit.js';
import type { SuperGroup, SuperMetadata } from './types.js';
import { isValidSuperName, validateSuperMetadata } from './validate.js';

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

const DEFAULT_METADATA_MAX_SIZE = 65536;
const DEFAULT_BLOCK_SIZE = 4096;
const DEFAULT_ALIGNMENT = 1024 * 1024;
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
