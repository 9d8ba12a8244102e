/**
 * Types of the super partition metadata (Android liblp, `metadata_format.h`). All sizes and sector numbers are
 * JavaScript numbers: the codec refuses a u64 above Number.MAX_SAFE_INTEGER (2^53 − 1; 4 EiB of bytes), so
 * nothing silently loses precision. Sectors are always 512 bytes (LP_SECTOR_SIZE), whatever the block size.
 */

/** The geometry block (stored twice, after the 4096 reserved bytes at the start of super). */
export interface SuperGeometry {
  /** Bytes reserved for one metadata copy of one slot (multiple of 512). */
  readonly metadataMaxSize: number;
  /** Number of metadata slots (1 on non-A/B, 2 on A/B, 3 on Virtual A/B retrofit). */
  readonly metadataSlotCount: number;
  /** Logical block size of the device (multiple of 512; partition sizes are multiples of it). */
  readonly logicalBlockSize: number;
}

/** Metadata header version: major is always 10; minor 0, 1 (v1 partition attributes) or 2 (header flags). */
export interface SuperHeaderVersion {
  readonly major: number;
  readonly minor: number;
  /** Header flags (v1.2 only; 0 otherwise): bit 0 virtual-A/B device, bit 1 overlays active. */
  readonly flags: number;
}

/** One extent of a logical partition: a run of sectors mapped linearly onto a block device, or zeroes. */
export type SuperExtent =
  | {
      readonly type: 'linear';
      /** Length in 512-byte sectors. */
      readonly numSectors: number;
      /** First sector on the block device (absolute, counted from the start of that block device). */
      readonly targetData: number;
      /** Index into {@link SuperMetadata.blockDevices} (0 = the super partition itself). */
      readonly targetSource: number;
    }
  | {
      readonly type: 'zero';
      readonly numSectors: number;
      readonly targetData: 0;
      readonly targetSource: 0;
    };

export interface SuperPartition {
  /** Partition name (1–35 printable ASCII characters; e.g. `system_a`). */
  readonly name: string;
  /** Bit set of {@link PARTITION_ATTRIBUTE}. */
  readonly attributes: number;
  /** Name of the partition's group (one of {@link SuperMetadata.groups}). */
  readonly group: string;
  /** Extents in the order they make up the partition. */
  readonly extents: readonly SuperExtent[];
}

export interface SuperGroup {
  /** Group name (`default` is always the first group). */
  readonly name: string;
  /** Bit set of {@link GROUP_FLAG}. */
  readonly flags: number;
  /** Largest total size in bytes of the group's partitions; 0 = no limit. */
  readonly maximumSize: number;
}

export interface SuperBlockDevice {
  /** Partition name of the block device (`super` for the first one). */
  readonly partitionName: string;
  /** First sector usable by logical partitions (after the metadata region, aligned). */
  readonly firstLogicalSector: number;
  /** Alignment in bytes of extents on this device (0 = none beyond the logical block size). */
  readonly alignment: number;
  /** Alignment offset in bytes. */
  readonly alignmentOffset: number;
  /** Size of the block device in bytes. */
  readonly size: number;
  /** Bit set of {@link BLOCK_DEVICE_FLAG}. */
  readonly flags: number;
}

/** One slot's metadata as liblp holds it (LpMetadata): geometry, header version and the four tables. */
export interface SuperMetadata {
  readonly geometry: SuperGeometry;
  readonly header: SuperHeaderVersion;
  readonly partitions: readonly SuperPartition[];
  readonly groups: readonly SuperGroup[];
  readonly blockDevices: readonly SuperBlockDevice[];
}

/** Partition attribute bits (LP_PARTITION_ATTR_*). */
export const PARTITION_ATTRIBUTE = {
  none: 0,
  readonly: 1 << 0,
  slotSuffixed: 1 << 1,
  /** v1.1+: the partition was written by an update (Virtual A/B). */
  updated: 1 << 2,
  /** v1.1+: the partition is not mapped. */
  disabled: 1 << 3,
} as const;

/** Group flag bits (LP_GROUP_*). */
export const GROUP_FLAG = { slotSuffixed: 1 << 0 } as const;

/** Block device flag bits (LP_BLOCK_DEVICE_*). */
export const BLOCK_DEVICE_FLAG = { slotSuffixed: 1 << 0 } as const;

/** Header flag bits (LP_HEADER_FLAG_*, v1.2+). */
export const HEADER_FLAG = { virtualAbDevice: 1 << 0, overlaysActive: 1 << 1 } as const;

/** Positioned reader over a super partition (a file, a device, the virtual device's storage). */
export interface SuperReader {
  /** Resolves exactly `length` bytes at `offset`, or fewer only at the end of the partition. */
  read(offset: number, length: number): Promise<Uint8Array>;
}

/** Positioned writer over a super partition. */
export interface SuperWriter {
  write(offset: number, bytes: Uint8Array): Promise<void>;
}

/** A byte range of a logical partition inside super, in partition order. */
export type LogicalExtentRange =
  | {
      readonly type: 'linear';
      /** Byte offset inside the logical partition. */
      readonly logicalOffset: number;
      /** Byte offset inside the block device `blockDevice` (the super partition for index 0). */
      readonly offset: number;
      readonly length: number;
      readonly blockDevice: string;
    }
  | { readonly type: 'zero'; readonly logicalOffset: number; readonly length: number };
