/**
 * Super partition metadata (Android liblp format): codec, super_empty.img, whole-super I/O and layout
 * operations. Shared by the host (engine, package importer) and the virtual device. Import from this file only.
 *
 * ```ts
 * const layout = parseSuperEmpty(bytes);                    // super_empty.img from a factory image
 * const md = await readSuperMetadata(reader, { slot: 0 });  // a super partition (falls back to the backup copy)
 * let next = createPartition(md, { name: 'system_b', group: 'main_b', size: 1 << 30 });
 * next = resizePartition(next, 'system_b', 2 << 30);
 * await flashSuperMetadata(writer, next);                   // geometry ×2 + every slot, primary and backup
 * for (const r of logicalPartitionExtents(next, 'system_b')) … // byte ranges inside super
 * ```
 * Malformed bytes → SuperFormatError ('bad_super_metadata'); impossible layouts → SuperLayoutError
 * ('super_layout'). See docs/super.md.
 *
 * @module
 */

export { SUPER_ERROR_CODES, type SuperFormatDetail, SuperFormatError, SuperLayoutError } from './errors.js';
export { freeBytes } from './extent-allocation.js';
export {
  BACKUP_GEOMETRY_OFFSET,
  backupMetadataOffset,
  LP_DEFAULT_GROUP,
  LP_DEFAULT_SUPER_NAME,
  LP_GEOMETRY_SIZE,
  LP_PARTITION_RESERVED_BYTES,
  LP_SECTOR_SIZE,
  MAX_SUPER_EMPTY_SIZE,
  PRIMARY_GEOMETRY_OFFSET,
  primaryMetadataOffset,
  totalMetadataSize,
} from './format.js';
export { encodeGeometry, parseGeometry } from './geometry.js';
export { encodeSuperEmpty, isSuperEmptyImage, parseSuperEmpty, readSuperEmptyStream } from './image.js';
export {
  flashSuperMetadata,
  type ReadSuperOptions,
  readSuperGeometry,
  readSuperMetadata,
  readSuperMetadataWithReport,
  type SuperReadResult,
  writeSuperMetadata,
} from './io.js';
export { encodedMetadataSize, encodeMetadata } from './metadata-encode.js';
export { parseMetadata } from './metadata-parse.js';
export { logicalPartitionExtents, metadataForSlot, slotSuffixForSlot } from './metadata-views.js';
export {
  addGroup,
  type CreatePartitionRequest,
  createPartition,
  deletePartition,
  type NewSuperOptions,
  newSuperMetadata,
  partitionSize,
  resizePartition,
} from './partition-ops.js';
export {
  BLOCK_DEVICE_FLAG,
  GROUP_FLAG,
  HEADER_FLAG,
  type LogicalExtentRange,
  PARTITION_ATTRIBUTE,
  type SuperBlockDevice,
  type SuperExtent,
  type SuperGeometry,
  type SuperGroup,
  type SuperHeaderVersion,
  type SuperMetadata,
  type SuperPartition,
  type SuperReader,
  type SuperWriter,
} from './types.js';
export { type MergeLayoutOptions, mergeLayout, wipeLayout } from './update-super-layout.js';
export { isValidSuperName, validateSuperMetadata } from './validate.js';
