/**
 * Geometry and metadata (header + tables) codec of liblp's format. Parsing validates every checksum, bound and
 * cross-reference before it returns a model (see {@link validateSuperMetadata}); encoding validates the model
 * the same way and lays the tables out as liblp's writer does (partitions, extents, groups, block devices,
 * contiguous after the header). Pure functions over small buffers (a metadata copy is ≤ metadataMaxSize).
 */
import { createHash } from 'node:crypto';
import { SuperFormatError } from './errors.js';
import {
  BLOCK_DEVICE_ENTRY_SIZE,
  EXTENT_ENTRY_SIZE,
  GEOMETRY_STRUCT_SIZE,
  GROUP_ENTRY_SIZE,
  HEADER_V1_0_SIZE,
  HEADER_V1_2_SIZE,
  LP_GEOMETRY_MAGIC,
  LP_GEOMETRY_SIZE,
  LP_HEADER_MAGIC,
  LP_MAJOR_VERSION,
  LP_MINOR_VERSION_MAX,
  LP_NAME_SIZE,
  LP_SECTOR_SIZE,
  MAX_METADATA_MAX_SIZE,
  MAX_SLOT_COUNT,
  PARTITION_ATTRIBUTE_MASK_V0,
  PARTITION_ATTRIBUTE_MASK_V1,
  PARTITION_ENTRY_SIZE,
  TARGET_TYPE_LINEAR,
  TARGET_TYPE_ZERO,
  totalMetadataSize,
} from './format.js';
import type {
  SuperBlockDevice,
  SuperExtent,
  SuperGeometry,
  SuperGroup,
  SuperMetadata,
  SuperPartition,
} from './types.js';

function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A real copy (Buffer#slice would return a view and let us zero the caller's bytes). */
function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function u64(dv: DataView, offset: number, where: string, field: string): number {
  const v = dv.getBigUint64(offset, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SuperFormatError(where, `${field} ${v} is beyond what Flashline can represent (2^53 − 1)`);
  }
  return Number(v);
}

function putU64(dv: DataView, offset: number, value: number): void {
  dv.setBigUint64(offset, BigInt(value), true);
}

/** A name field: 1–35 printable ASCII characters, NUL-terminated, zero-padded. */
function readName(bytes: Uint8Array, offset: number, where: string): string {
  const field = bytes.subarray(offset, offset + LP_NAME_SIZE);
  const nul = field.indexOf(0);
  if (nul < 0) throw new SuperFormatError(where, `name is not NUL-terminated within ${LP_NAME_SIZE} bytes`);
  if (nul === 0) throw new SuperFormatError(where, 'name is empty');
  for (let i = nul; i < LP_NAME_SIZE; i++) {
    if (field[i] !== 0) throw new SuperFormatError(where, 'name has bytes after its terminating NUL');
  }
  let name = '';
  for (let i = 0; i < nul; i++) {
    const c = field[i]!;
    if (c < 0x21 || c > 0x7e) {
      throw new SuperFormatError(where, `name has a non-printable byte 0x${c.toString(16).padStart(2, '0')}`);
    }
    name += String.fromCharCode(c);
  }
  return name;
}

function writeName(bytes: Uint8Array, offset: number, name: string): void {
  for (let i = 0; i < name.length; i++) bytes[offset + i] = name.charCodeAt(i);
}

/** Is this a name liblp and Flashline accept (1–35 printable ASCII characters, no spaces)? */
export function isValidSuperName(name: string): boolean {
  return typeof name === 'string' && /^[\x21-\x7e]{1,35}$/.test(name);
}

function isUint(v: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

const U32 = 0xffffffff;

// ---------------------------------------------------------------------------------------------- geometry

function checkGeometry(g: SuperGeometry): void {
  if (!isUint(g.metadataSlotCount, U32) || g.metadataSlotCount < 1 || g.metadataSlotCount > MAX_SLOT_COUNT) {
    throw new SuperFormatError(
      'geometry',
      `metadata slot count ${g.metadataSlotCount} is not 1–${MAX_SLOT_COUNT}`,
    );
  }
  if (
    !isUint(g.metadataMaxSize, U32) ||
    g.metadataMaxSize % LP_SECTOR_SIZE !== 0 ||
    g.metadataMaxSize < HEADER_V1_2_SIZE ||
    g.metadataMaxSize > MAX_METADATA_MAX_SIZE
  ) {
    throw new SuperFormatError(
      'geometry',
      `metadata max size ${g.metadataMaxSize} is not a multiple of ${LP_SECTOR_SIZE} between ${HEADER_V1_2_SIZE} and ${MAX_METADATA_MAX_SIZE}`,
    );
  }
  if (
    !isUint(g.logicalBlockSize, U32) ||
    g.logicalBlockSize === 0 ||
    g.logicalBlockSize % LP_SECTOR_SIZE !== 0
  ) {
    throw new SuperFormatError(
      'geometry',
      `logical block size ${g.logicalBlockSize} is not a positive multiple of ${LP_SECTOR_SIZE}`,
    );
  }
}

/** Parse a geometry block (the first 52 bytes count; liblp reads 4096). */
export function parseGeometry(bytes: Uint8Array): SuperGeometry {
  if (bytes.length < GEOMETRY_STRUCT_SIZE) {
    throw new SuperFormatError(
      'geometry',
      `only ${bytes.length} bytes, the geometry needs ${GEOMETRY_STRUCT_SIZE}`,
    );
  }
  const dv = view(bytes);
  const magic = dv.getUint32(0, true);
  if (magic !== LP_GEOMETRY_MAGIC) {
    throw new SuperFormatError(
      'geometry',
      `magic is 0x${magic.toString(16).padStart(8, '0')}, expected 0x${LP_GEOMETRY_MAGIC.toString(16)} — this is not liblp metadata`,
    );
  }
  const structSize = dv.getUint32(4, true);
  if (structSize !== GEOMETRY_STRUCT_SIZE) {
    throw new SuperFormatError('geometry', `struct size is ${structSize}, expected ${GEOMETRY_STRUCT_SIZE}`);
  }
  const copy = copyOf(bytes, 0, GEOMETRY_STRUCT_SIZE);
  copy.fill(0, 8, 40);
  if (!equalBytes(sha256(copy), bytes.subarray(8, 40))) {
    throw new SuperFormatError('geometry', 'SHA-256 checksum does not match (damaged geometry)');
  }
  const geometry: SuperGeometry = {
    metadataMaxSize: dv.getUint32(40, true),
    metadataSlotCount: dv.getUint32(44, true),
    logicalBlockSize: dv.getUint32(48, true),
  };
  checkGeometry(geometry);
  return geometry;
}

/** Encode a geometry block: the 52-byte struct with its checksum, zero-padded to 4096 bytes. */
export function encodeGeometry(geometry: SuperGeometry): Uint8Array {
  checkGeometry(geometry);
  const out = new Uint8Array(LP_GEOMETRY_SIZE);
  const dv = view(out);
  dv.setUint32(0, LP_GEOMETRY_MAGIC, true);
  dv.setUint32(4, GEOMETRY_STRUCT_SIZE, true);
  dv.setUint32(40, geometry.metadataMaxSize, true);
  dv.setUint32(44, geometry.metadataSlotCount, true);
  dv.setUint32(48, geometry.logicalBlockSize, true);
  out.set(sha256(out.subarray(0, GEOMETRY_STRUCT_SIZE)), 8);
  return out;
}

// ---------------------------------------------------------------------------------------------- validation

function headerSizeFor(minor: number): number {
  return minor >= 2 ? HEADER_V1_2_SIZE : HEADER_V1_0_SIZE;
}

/**
 * Check a metadata model against every rule the codec enforces (the same for parsed and to-be-encoded
 * metadata). Throws {@link SuperFormatError} naming the first problem.
 */
export function validateSuperMetadata(md: SuperMetadata): void {
  checkGeometry(md.geometry);
  const { major, minor, flags } = md.header;
  if (major !== LP_MAJOR_VERSION || !isUint(minor) || minor > LP_MINOR_VERSION_MAX) {
    throw new SuperFormatError(
      'header',
      `version ${major}.${minor} is not supported (Flashline reads ${LP_MAJOR_VERSION}.0–${LP_MAJOR_VERSION}.${LP_MINOR_VERSION_MAX})`,
    );
  }
  if (!isUint(flags, U32) || (minor < 2 && flags !== 0)) {
    throw new SuperFormatError('header', `header flags 0x${flags.toString(16)} need header version 10.2`);
  }
  if (md.blockDevices.length === 0) {
    throw new SuperFormatError(
      'block device',
      'there is no block device (the super partition must be listed first)',
    );
  }
  md.blockDevices.forEach((bd, i) => {
    checkBlockDevice(md, bd, i);
  });
  const groupNames = new Map<string, number>();
  md.groups.forEach((g, i) => {
    const where = `group ${i}`;
    if (!isValidSuperName(g.name))
      throw new SuperFormatError(
        where,
        `name ${JSON.stringify(g.name)} is not 1–35 printable ASCII characters`,
      );
    if (groupNames.has(g.name)) throw new SuperFormatError(where, `group name '${g.name}' appears twice`);
    if (!isUint(g.flags, U32) || !isUint(g.maximumSize)) {
      throw new SuperFormatError(where, `group '${g.name}' has invalid flags or maximum size`);
    }
    groupNames.set(g.name, 0);
  });
  const validAttributes = PARTITION_ATTRIBUTE_MASK_V0 | (minor >= 1 ? PARTITION_ATTRIBUTE_MASK_V1 : 0);
  const names = new Set<string>();
  const linear: { start: number; end: number; device: number; owner: string }[] = [];
  for (const p of md.partitions) {
    const where = `partition ${JSON.stringify(p.name)}`;
    if (!isValidSuperName(p.name))
      throw new SuperFormatError(where, 'name is not 1–35 printable ASCII characters');
    if (names.has(p.name)) throw new SuperFormatError(where, 'partition name appears twice');
    names.add(p.name);
    if (!isUint(p.attributes, U32) || (p.attributes & ~validAttributes) !== 0) {
      throw new SuperFormatError(
        where,
        `attributes 0x${p.attributes.toString(16)} are not valid for header version ${major}.${minor}`,
      );
    }
    if (!groupNames.has(p.group)) throw new SuperFormatError(where, `group '${p.group}' does not exist`);
    let bytes = 0;
    for (const e of p.extents) {
      checkExtent(md, e, where);
      bytes += e.numSectors * LP_SECTOR_SIZE;
      if (e.type === 'linear') {
        linear.push({
          start: e.targetData,
          end: e.targetData + e.numSectors,
          device: e.targetSource,
          owner: p.name,
        });
      }
    }
    if (!Number.isSafeInteger(bytes)) throw new SuperFormatError(where, 'partition size overflows');
    groupNames.set(p.group, groupNames.get(p.group)! + bytes);
  }
  linear.sort((a, b) => a.device - b.device || a.start - b.start);
  for (let i = 1; i < linear.length; i++) {
    const a = linear[i - 1]!;
    const b = linear[i]!;
    if (a.device === b.device && b.start < a.end) {
      throw new SuperFormatError(
        'extent',
        `extents of '${a.owner}' and '${b.owner}' overlap at sector ${b.start} of block device ${b.device}`,
      );
    }
  }
  for (const g of md.groups) {
    const used = groupNames.get(g.name)!;
    if (g.maximumSize > 0 && used > g.maximumSize) {
      throw new SuperFormatError(
        `group ${JSON.stringify(g.name)}`,
        `its partitions take ${used} bytes, more than the group's maximum of ${g.maximumSize}`,
      );
    }
  }
}

function checkBlockDevice(md: SuperMetadata, bd: SuperBlockDevice, i: number): void {
  const where = `block device ${i}`;
  if (!isValidSuperName(bd.partitionName)) {
    throw new SuperFormatError(
      where,
      `name ${JSON.stringify(bd.partitionName)} is not 1–35 printable ASCII characters`,
    );
  }
  if (
    !isUint(bd.size) ||
    !isUint(bd.firstLogicalSector) ||
    !isUint(bd.alignment, U32) ||
    !isUint(bd.alignmentOffset, U32) ||
    !isUint(bd.flags, U32)
  ) {
    throw new SuperFormatError(where, `'${bd.partitionName}' has a field out of range`);
  }
  if (bd.size % LP_SECTOR_SIZE !== 0) {
    throw new SuperFormatError(
      where,
      `size ${bd.size} of '${bd.partitionName}' is not a multiple of ${LP_SECTOR_SIZE}`,
    );
  }
  if ((bd.firstLogicalSector + 1) * LP_SECTOR_SIZE > bd.size) {
    throw new SuperFormatError(
      where,
      `first logical sector ${bd.firstLogicalSector} lies beyond the end of '${bd.partitionName}' (${bd.size} bytes)`,
    );
  }
  if (i === 0) {
    const region = totalMetadataSize(md.geometry);
    if (region > bd.firstLogicalSector * LP_SECTOR_SIZE) {
      throw new SuperFormatError(
        where,
        `the metadata region (${region} bytes) overlaps the logical partitions, which start at byte ${bd.firstLogicalSector * LP_SECTOR_SIZE}`,
      );
    }
  }
}

function checkExtent(md: SuperMetadata, e: SuperExtent, where: string): void {
  if (!isUint(e.numSectors) || e.numSectors === 0) {
    throw new SuperFormatError(where, `an extent has ${e.numSectors} sectors (must be at least 1)`);
  }
  if (e.type === 'zero') {
    if (e.targetData !== 0 || e.targetSource !== 0) {
      throw new SuperFormatError(where, 'a zero extent has a non-zero target');
    }
    return;
  }
  if (e.type !== 'linear')
    throw new SuperFormatError(where, `an extent has unknown type ${String((e as { type: unknown }).type)}`);
  const bd = md.blockDevices[e.targetSource];
  if (!isUint(e.targetSource, U32) || !bd) {
    throw new SuperFormatError(where, `an extent names block device ${e.targetSource}, which does not exist`);
  }
  const last = Math.floor(bd.size / LP_SECTOR_SIZE);
  if (!isUint(e.targetData) || e.targetData < bd.firstLogicalSector || e.targetData + e.numSectors > last) {
    throw new SuperFormatError(
      where,
      `extent at sector ${e.targetData} (+${e.numSectors}) lies outside the usable sectors ${bd.firstLogicalSector}–${last} of '${bd.partitionName}'`,
    );
  }
}

// ---------------------------------------------------------------------------------------------- metadata

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

/** Bytes one metadata copy of `md` takes when encoded (header + tables). */
export function encodedMetadataSize(md: SuperMetadata): number {
  const extents = md.partitions.reduce((n, p) => n + p.extents.length, 0);
  return (
    headerSizeFor(md.header.minor) +
    md.partitions.length * PARTITION_ENTRY_SIZE +
    extents * EXTENT_ENTRY_SIZE +
    md.groups.length * GROUP_ENTRY_SIZE +
    md.blockDevices.length * BLOCK_DEVICE_ENTRY_SIZE
  );
}

/**
 * Encode one metadata copy: header (128 bytes for 10.0/10.1, 256 for 10.2) followed by the partition, extent,
 * group and block device tables, checksums filled in. Refuses metadata that does not validate or does not fit
 * in metadataMaxSize.
 */
export function encodeMetadata(md: SuperMetadata): Uint8Array {
  validateSuperMetadata(md);
  const headerSize = headerSizeFor(md.header.minor);
  const total = encodedMetadataSize(md);
  if (total > md.geometry.metadataMaxSize) {
    throw new SuperFormatError(
      'tables',
      `the metadata takes ${total} bytes, more than the metadata max size ${md.geometry.metadataMaxSize}; use fewer partitions or extents`,
    );
  }
  const out = new Uint8Array(total);
  const dv = view(out);
  const groupIndex = new Map(md.groups.map((g, i) => [g.name, i]));
  const extentCount = md.partitions.reduce((n, p) => n + p.extents.length, 0);
  const partOff = 0;
  const extOff = partOff + md.partitions.length * PARTITION_ENTRY_SIZE;
  const groupOff = extOff + extentCount * EXTENT_ENTRY_SIZE;
  const devOff = groupOff + md.groups.length * GROUP_ENTRY_SIZE;
  const tablesSize = devOff + md.blockDevices.length * BLOCK_DEVICE_ENTRY_SIZE;

  let extentIndex = 0;
  md.partitions.forEach((p, i) => {
    const at = headerSize + partOff + i * PARTITION_ENTRY_SIZE;
    writeName(out, at, p.name);
    dv.setUint32(at + 36, p.attributes, true);
    dv.setUint32(at + 40, extentIndex, true);
    dv.setUint32(at + 44, p.extents.length, true);
    dv.setUint32(at + 48, groupIndex.get(p.group)!, true);
    for (const e of p.extents) {
      const ea = headerSize + extOff + extentIndex * EXTENT_ENTRY_SIZE;
      putU64(dv, ea, e.numSectors);
      dv.setUint32(ea + 8, e.type === 'linear' ? TARGET_TYPE_LINEAR : TARGET_TYPE_ZERO, true);
      putU64(dv, ea + 12, e.targetData);
      dv.setUint32(ea + 20, e.targetSource, true);
      extentIndex++;
    }
  });
  md.groups.forEach((g, i) => {
    const at = headerSize + groupOff + i * GROUP_ENTRY_SIZE;
    writeName(out, at, g.name);
    dv.setUint32(at + 36, g.flags, true);
    putU64(dv, at + 40, g.maximumSize);
  });
  md.blockDevices.forEach((bd, i) => {
    const at = headerSize + devOff + i * BLOCK_DEVICE_ENTRY_SIZE;
    putU64(dv, at, bd.firstLogicalSector);
    dv.setUint32(at + 8, bd.alignment, true);
    dv.setUint32(at + 12, bd.alignmentOffset, true);
    putU64(dv, at + 16, bd.size);
    writeName(out, at + 24, bd.partitionName);
    dv.setUint32(at + 60, bd.flags, true);
  });

  dv.setUint32(0, LP_HEADER_MAGIC, true);
  dv.setUint16(4, md.header.major, true);
  dv.setUint16(6, md.header.minor, true);
  dv.setUint32(8, headerSize, true);
  dv.setUint32(44, tablesSize, true);
  const descriptors: [number, number, number][] = [
    [partOff, md.partitions.length, PARTITION_ENTRY_SIZE],
    [extOff, extentCount, EXTENT_ENTRY_SIZE],
    [groupOff, md.groups.length, GROUP_ENTRY_SIZE],
    [devOff, md.blockDevices.length, BLOCK_DEVICE_ENTRY_SIZE],
  ];
  descriptors.forEach(([offset, count, size], i) => {
    dv.setUint32(80 + i * 12, offset, true);
    dv.setUint32(84 + i * 12, count, true);
    dv.setUint32(88 + i * 12, size, true);
  });
  if (md.header.minor >= 2) dv.setUint32(128, md.header.flags, true);
  out.set(sha256(out.subarray(headerSize)), 48);
  out.set(sha256(out.subarray(0, headerSize)), 12);
  return out;
}
