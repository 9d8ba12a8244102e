/**
 * liblp on-disk constants (system/core/fs_mgr/liblp/include/liblp/metadata_format.h). All integers are
 * little-endian. See docs/super.md for sources.
 */
/** "gDla" little-endian. */
export const LP_GEOMETRY_MAGIC = 0x616c4467;
/** "0PLA" little-endian. */
export const LP_HEADER_MAGIC = 0x414c5030;
export const LP_MAJOR_VERSION = 10;
export const LP_MINOR_VERSION_MAX = 2;
/** Bytes at the start of super left alone (boot loaders / partition table tools may use them). */
export const LP_PARTITION_RESERVED_BYTES = 4096;
/** Space given to each of the two geometry copies. */
export const LP_GEOMETRY_SIZE = 4096;
export const LP_SECTOR_SIZE = 512;
export const LP_DEFAULT_SUPER_NAME = 'super';
/** Name of the first, always-present partition group. */
export const LP_DEFAULT_GROUP = 'default';
/** Partition/group/block-device name field size (35 characters + NUL). */
export const LP_NAME_SIZE = 36;

export const GEOMETRY_STRUCT_SIZE = 52;
export const HEADER_V1_0_SIZE = 128;
export const HEADER_V1_2_SIZE = 256;
export const PARTITION_ENTRY_SIZE = 52;
export const EXTENT_ENTRY_SIZE = 24;
export const GROUP_ENTRY_SIZE = 48;
export const BLOCK_DEVICE_ENTRY_SIZE = 64;

export const TARGET_TYPE_LINEAR = 0;
export const TARGET_TYPE_ZERO = 1;

/** Attribute bits allowed in every version, and those that need minor version ≥ 1. */
export const PARTITION_ATTRIBUTE_MASK_V0 = 0x3;
export const PARTITION_ATTRIBUTE_MASK_V1 = 0xc;
export const HEADER_FLAGS_MASK = 0x3;

/**
 * Flashline's own bounds on outside geometry (liblp has none): real devices use 64 KiB and 1–3 slots; these
 * keep a hostile geometry from asking for gigabytes of metadata reads.
 */
export const MAX_METADATA_MAX_SIZE = 16 * 1024 * 1024;
export const MAX_SLOT_COUNT = 16;
/** Largest super_empty.img Flashline reads (geometry block + the largest metadata copy it accepts). */
export const MAX_SUPER_EMPTY_SIZE = LP_GEOMETRY_SIZE + MAX_METADATA_MAX_SIZE;

/** Offset of the primary geometry copy in super (after the reserved bytes); the backup follows it. */
export const PRIMARY_GEOMETRY_OFFSET = LP_PARTITION_RESERVED_BYTES;
export const BACKUP_GEOMETRY_OFFSET = LP_PARTITION_RESERVED_BYTES + LP_GEOMETRY_SIZE;

interface SlotGeometry {
  readonly metadataMaxSize: number;
  readonly metadataSlotCount: number;
}

/** Offset in super of slot `slot`'s primary metadata copy (utility.cpp GetPrimaryMetadataOffset). */
export function primaryMetadataOffset(g: SlotGeometry, slot: number): number {
  return LP_PARTITION_RESERVED_BYTES + LP_GEOMETRY_SIZE * 2 + g.metadataMaxSize * slot;
}

/** Offset in super of slot `slot`'s backup metadata copy (after all primary copies). */
export function backupMetadataOffset(g: SlotGeometry, slot: number): number {
  return primaryMetadataOffset(g, g.metadataSlotCount) + g.metadataMaxSize * slot;
}

/** Bytes at the start of super taken by reserved bytes, both geometries and every metadata copy. */
export function totalMetadataSize(g: SlotGeometry): number {
  return LP_PARTITION_RESERVED_BYTES + (LP_GEOMETRY_SIZE + g.metadataMaxSize * g.metadataSlotCount) * 2;
}
