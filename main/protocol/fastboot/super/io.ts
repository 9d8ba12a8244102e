/**
 * Reading and writing the metadata region of a whole super partition through a positioned reader/writer, as
 * liblp's reader.cpp / writer.cpp do: geometry at 4096 (backup at 8192), then every slot's primary copy, then
 * every slot's backup copy. Only the metadata region is touched (≤ 4096 + 2 × (4096 + max × slots) bytes);
 * logical partition data is never read.
 */

import { SuperFormatError } from './errors.js';
import {
  BACKUP_GEOMETRY_OFFSET,
  backupMetadataOffset,
  LP_GEOMETRY_SIZE,
  LP_PARTITION_RESERVED_BYTES,
  LP_SECTOR_SIZE,
  PRIMARY_GEOMETRY_OFFSET,
  primaryMetadataOffset,
} from './format.js';
import { encodeGeometry, parseGeometry } from './geometry.js';
import { encodeMetadata } from './metadata-encode.js';
import { parseMetadata } from './metadata-parse.js';
import type { SuperGeometry, SuperMetadata, SuperReader, SuperWriter } from './types.js';

export interface ReadSuperOptions {
  /** Metadata slot to read (0 = slot a; default 0). */
  readonly slot?: number;
}

export interface SuperReadResult {
  readonly metadata: SuperMetadata;
  /** Which copies were damaged and skipped (empty when the primary copies were good). */
  readonly recovered: readonly ('primary-geometry' | 'primary-metadata')[];
}

async function readExactly(
  reader: SuperReader,
  offset: number,
  length: number,
  what: string,
): Promise<Uint8Array> {
  const bytes = await reader.read(offset, length);
  if (bytes.length < length) {
    throw new SuperFormatError(
      what,
      `super ends at byte ${offset + bytes.length}, before the ${length} bytes needed at ${offset} (partition too small or truncated dump)`,
      offset,
    );
  }
  return bytes.length === length ? bytes : bytes.subarray(0, length);
}

async function tryParse<T>(
  fn: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: SuperFormatError }> {
  try {
    return { ok: true, value: await fn() };
  } catch (err) {
    if (err instanceof SuperFormatError) return { ok: false, error: err };
    throw err;
  }
}

async function readGeometryReport(
  reader: SuperReader,
): Promise<{ geometry: SuperGeometry; recovered: boolean }> {
  const primary = await tryParse(async () =>
    parseGeometry(await readExactly(reader, PRIMARY_GEOMETRY_OFFSET, LP_GEOMETRY_SIZE, 'geometry')),
  );
  if (primary.ok) return { geometry: primary.value, recovered: false };
  const backup = await tryParse(async () =>
    parseGeometry(await readExactly(reader, BACKUP_GEOMETRY_OFFSET, LP_GEOMETRY_SIZE, 'geometry')),
  );
  if (backup.ok) return { geometry: backup.value, recovered: true };
  throw new SuperFormatError(
    'geometry',
    `neither geometry copy is readable (primary: ${primary.error.message}; backup: ${backup.error.message}) — this partition holds no dynamic-partition metadata; flash a super_empty.img with update-super --wipe`,
    PRIMARY_GEOMETRY_OFFSET,
  );
}

/** Read the geometry, falling back to the backup copy when the primary is damaged. */
export async function readSuperGeometry(reader: SuperReader): Promise<SuperGeometry> {
  return (await readGeometryReport(reader)).geometry;
}

/** Read one slot's metadata and say which damaged copies were skipped. */
export async function readSuperMetadataWithReport(
  reader: SuperReader,
  options: ReadSuperOptions = {},
): Promise<SuperReadResult> {
  const slot = options.slot ?? 0;
  const { geometry, recovered: geometryRecovered } = await readGeometryReport(reader);
  if (!Number.isInteger(slot) || slot < 0 || slot >= geometry.metadataSlotCount) {
    throw new SuperFormatError(
      'geometry',
      `slot ${slot} does not exist; the geometry has ${geometry.metadataSlotCount} slot(s)`,
    );
  }
  const readCopy = (offset: number) =>
    tryParse(async () =>
      parseMetadata(geometry, await readExactly(reader, offset, geometry.metadataMaxSize, 'header')),
    );
  const recovered: ('primary-geometry' | 'primary-metadata')[] = geometryRecovered
    ? ['primary-geometry']
    : [];
  const primary = await readCopy(primaryMetadataOffset(geometry, slot));
  if (primary.ok) return { metadata: primary.value, recovered };
  const backup = await readCopy(backupMetadataOffset(geometry, slot));
  if (backup.ok) return { metadata: backup.value, recovered: [...recovered, 'primary-metadata'] };
  throw new SuperFormatError(
    'header',
    `neither metadata copy of slot ${slot} is readable (primary: ${primary.error.message}; backup: ${backup.error.message})`,
    primaryMetadataOffset(geometry, slot),
  );
}

/** Read one slot's metadata (primary copy, or the backup when the primary is damaged, as liblp does). */
export async function readSuperMetadata(
  reader: SuperReader,
  options?: ReadSuperOptions,
): Promise<SuperMetadata> {
  return (await readSuperMetadataWithReport(reader, options)).metadata;
}

function checkSlot(metadata: SuperMetadata, slot: number): void {
  if (!Number.isInteger(slot) || slot < 0 || slot >= metadata.geometry.metadataSlotCount) {
    throw new SuperFormatError(
      'geometry',
      `slot ${slot} does not exist; the geometry has ${metadata.geometry.metadataSlotCount} slot(s)`,
    );
  }
}

/**
 * Write one slot's metadata: primary copy, then backup copy (so a cut write leaves one good copy). The
 * geometry already on super must match (use {@link flashSuperMetadata} to lay down new geometry).
 */
export async function writeSuperMetadata(
  writer: SuperWriter,
  metadata: SuperMetadata,
  options: { readonly slot?: number } = {},
): Promise<void> {
  const slot = options.slot ?? 0;
  checkSlot(metadata, slot);
  const blob = encodeMetadata(metadata);
  await writer.write(primaryMetadataOffset(metadata.geometry, slot), blob);
  await writer.write(backupMetadataOffset(metadata.geometry, slot), blob);
}

/**
 * Lay down fresh metadata on super as liblp's FlashPartitionTable does: zero the 4096 reserved bytes, write the
 * geometry twice, then every slot's primary and backup copy. Logical partition data is not touched.
 */
export async function flashSuperMetadata(writer: SuperWriter, metadata: SuperMetadata): Promise<void> {
  const blob = encodeMetadata(metadata);
  const geometry = encodeGeometry(metadata.geometry);
  const superDevice = metadata.blockDevices[0]!;
  if (
    superDevice.firstLogicalSector * LP_SECTOR_SIZE <
    backupMetadataOffset(metadata.geometry, metadata.geometry.metadataSlotCount)
  ) {
    throw new SuperFormatError('block device 0', 'the metadata region overlaps the logical partitions');
  }
  await writer.write(0, new Uint8Array(LP_PARTITION_RESERVED_BYTES));
  await writer.write(PRIMARY_GEOMETRY_OFFSET, geometry);
  await writer.write(BACKUP_GEOMETRY_OFFSET, geometry);
  for (let slot = 0; slot < metadata.geometry.metadataSlotCount; slot++) {
    await writer.write(primaryMetadataOffset(metadata.geometry, slot), blob);
    await writer.write(backupMetadataOffset(metadata.geometry, slot), blob);
  }
}
