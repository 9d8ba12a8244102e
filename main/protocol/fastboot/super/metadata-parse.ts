/**
 * Metadata (header + tables) decoder of liblp's format. Parsing validates every checksum, bound and
 * cross-reference before it returns a model (see {@link validateSuperMetadata}). Pure functions over small
 * buffers (a metadata copy is ≤ metadataMaxSize).
 */
import { SuperFormatError } from './errors.js';
import { copyOf, equalBytes, headerSizeFor, readName, sha256, u64, view } from './fields.js';
import {
  BLOCK_DEVICE_ENTRY_SIZE,
  EXTENT_ENTRY_SIZE,
  GROUP_ENTRY_SIZE,
  HEADER_V1_0_SIZE,
  LP_HEADER_MAGIC,
  LP_MAJOR_VERSION,
  LP_MINOR_VERSION_MAX,
  PARTITION_ENTRY_SIZE,
  TARGET_TYPE_LINEAR,
  TARGET_TYPE_ZERO,
} from './format.js';
import { checkGeometry } from './geometry.js';
import type {
  SuperBlockDevice,
  SuperExtent,
  SuperGeometry,
  SuperGroup,
  SuperMetadata,
  SuperPartition,
} from './types.js';
import { validateSuperMetadata } from './validate.js';

interface Table {
  offset: number;
  count: number;
  entrySize: number;
}

function readTable(dv: DataView, at: number, tablesSize: number, name: string, expected: number): Table {
  const t = {
    offset: dv.getUint32(at, true),
    count: dv.getUint32(at + 4, true),
    entrySize: dv.getUint32(at + 8, true),
  };
  if (t.offset > tablesSize || t.count * t.entrySize > tablesSize - t.offset) {
    throw new SuperFormatError(
      'header',
      `the ${name} table (${t.count} × ${t.entrySize} bytes at ${t.offset}) does not fit in the ${tablesSize} bytes of tables`,
    );
  }
  if (t.entrySize !== expected) {
    throw new SuperFormatError(
      'header',
      `${name} table entries are ${t.entrySize} bytes, expected ${expected}`,
    );
  }
  return t;
}

/**
 * Parse one metadata copy (header + tables) that starts at `bytes[0]`; `bytes` may run on past the copy (a
 * whole metadataMaxSize slot read from super).
 */
export function parseMetadata(geometry: SuperGeometry, bytes: Uint8Array): SuperMetadata {
  checkGeometry(geometry);
  if (bytes.length < HEADER_V1_0_SIZE) {
    throw new SuperFormatError('header', `only ${bytes.length} bytes, the header needs ${HEADER_V1_0_SIZE}`);
  }
  const dv = view(bytes);
  const magic = dv.getUint32(0, true);
  if (magic !== LP_HEADER_MAGIC) {
    throw new SuperFormatError(
      'header',
      `magic is 0x${magic.toString(16).padStart(8, '0')}, expected 0x${LP_HEADER_MAGIC.toString(16)}`,
    );
  }
  const major = dv.getUint16(4, true);
  const minor = dv.getUint16(6, true);
  if (major !== LP_MAJOR_VERSION || minor > LP_MINOR_VERSION_MAX) {
    throw new SuperFormatError(
      'header',
      `version ${major}.${minor} is not supported (Flashline reads ${LP_MAJOR_VERSION}.0–${LP_MAJOR_VERSION}.${LP_MINOR_VERSION_MAX}); update Flashline or use a matching image`,
    );
  }
  const headerSize = dv.getUint32(8, true);
  if (headerSize !== headerSizeFor(minor)) {
    throw new SuperFormatError(
      'header',
      `header size is ${headerSize}, version 10.${minor} needs ${headerSizeFor(minor)}`,
    );
  }
  if (bytes.length < headerSize) {
    throw new SuperFormatError('header', `only ${bytes.length} bytes, the header needs ${headerSize}`);
  }
  const header = copyOf(bytes, 0, headerSize);
  header.fill(0, 12, 44);
  if (!equalBytes(sha256(header), bytes.subarray(12, 44))) {
    throw new SuperFormatError('header', 'header SHA-256 checksum does not match (damaged metadata)');
  }
  const tablesSize = dv.getUint32(44, true);
  if (headerSize + tablesSize > geometry.metadataMaxSize) {
    throw new SuperFormatError(
      'header',
      `header and tables take ${headerSize + tablesSize} bytes, more than the metadata max size ${geometry.metadataMaxSize}`,
    );
  }
  const partitions = readTable(dv, 80, tablesSize, 'partition', PARTITION_ENTRY_SIZE);
  const extents = readTable(dv, 92, tablesSize, 'extent', EXTENT_ENTRY_SIZE);
  const groups = readTable(dv, 104, tablesSize, 'group', GROUP_ENTRY_SIZE);
  const blockDevices = readTable(dv, 116, tablesSize, 'block device', BLOCK_DEVICE_ENTRY_SIZE);
  const flags = minor >= 2 ? dv.getUint32(128, true) : 0;
  if (bytes.length < headerSize + tablesSize) {
    throw new SuperFormatError(
      'tables',
      `the tables need ${tablesSize} bytes after the header, only ${bytes.length - headerSize} are there (truncated)`,
    );
  }
  const tables = bytes.subarray(headerSize, headerSize + tablesSize);
  if (!equalBytes(sha256(tables), bytes.subarray(48, 80))) {
    throw new SuperFormatError('tables', 'tables SHA-256 checksum does not match (damaged metadata)');
  }
  const tv = view(tables);

  const rawExtents: SuperExtent[] = [];
  for (let i = 0; i < extents.count; i++) {
    const at = extents.offset + i * EXTENT_ENTRY_SIZE;
    const where = `extent ${i}`;
    const numSectors = u64(tv, at, where, 'sector count');
    const type = tv.getUint32(at + 8, true);
    const targetData = u64(tv, at + 12, where, 'target sector');
    const targetSource = tv.getUint32(at + 20, true);
    if (type === TARGET_TYPE_LINEAR) {
      if (targetSource >= blockDevices.count) {
        throw new SuperFormatError(
          where,
          `names block device ${targetSource}, there are ${blockDevices.count}`,
        );
      }
      rawExtents.push({ type: 'linear', numSectors, targetData, targetSource });
    } else if (type === TARGET_TYPE_ZERO) {
      if (targetData !== 0 || targetSource !== 0)
        throw new SuperFormatError(where, 'zero extent has a non-zero target');
      rawExtents.push({ type: 'zero', numSectors, targetData: 0, targetSource: 0 });
    } else {
      throw new SuperFormatError(where, `unknown target type ${type} (known: 0 linear, 1 zero)`);
    }
  }
  const parsedGroups: SuperGroup[] = [];
  for (let i = 0; i < groups.count; i++) {
    const at = groups.offset + i * GROUP_ENTRY_SIZE;
    const where = `group ${i}`;
    parsedGroups.push({
      name: readName(tables, at, where),
      flags: tv.getUint32(at + 36, true),
      maximumSize: u64(tv, at + 40, where, 'maximum size'),
    });
  }
  const parsedPartitions: SuperPartition[] = [];
  for (let i = 0; i < partitions.count; i++) {
    const at = partitions.offset + i * PARTITION_ENTRY_SIZE;
    const where = `partition ${i}`;
    const name = readName(tables, at, where);
    const attributes = tv.getUint32(at + 36, true);
    const first = tv.getUint32(at + 40, true);
    const count = tv.getUint32(at + 44, true);
    const groupIndex = tv.getUint32(at + 48, true);
    if (first + count > extents.count) {
      throw new SuperFormatError(
        `partition '${name}'`,
        `its extents ${first}..${first + count} run past the ${extents.count} entries of the extent table`,
      );
    }
    const group = parsedGroups[groupIndex];
    if (!group) {
      throw new SuperFormatError(
        `partition '${name}'`,
        `group index ${groupIndex} is out of range (${groups.count} groups)`,
      );
    }
    parsedPartitions.push({
      name,
      attributes,
      group: group.name,
      extents: rawExtents.slice(first, first + count),
    });
  }
  const parsedDevices: SuperBlockDevice[] = [];
  for (let i = 0; i < blockDevices.count; i++) {
    const at = blockDevices.offset + i * BLOCK_DEVICE_ENTRY_SIZE;
    const where = `block device ${i}`;
    parsedDevices.push({
      firstLogicalSector: u64(tv, at, where, 'first logical sector'),
      alignment: tv.getUint32(at + 8, true),
      alignmentOffset: tv.getUint32(at + 12, true),
      size: u64(tv, at + 16, where, 'size'),
      partitionName: readName(tables, at + 24, where),
      flags: tv.getUint32(at + 60, true),
    });
  }
  const md: SuperMetadata = {
    geometry: { ...geometry },
    header: { major, minor, flags },
    partitions: parsedPartitions,
    groups: parsedGroups,
    blockDevices: parsedDevices,
  };
  validateSuperMetadata(md);
  return md;
}
