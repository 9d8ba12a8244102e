/**
 * Validation of a metadata model against every rule the codec enforces: parsing validates every checksum,
 * bound and cross-reference before it returns a model; encoding validates the model the same way.
 */
import { SuperFormatError } from './errors.js';
import { isUint, U32 } from './fields.js';
import {
  LP_MAJOR_VERSION,
  LP_MINOR_VERSION_MAX,
  LP_SECTOR_SIZE,
  PARTITION_ATTRIBUTE_MASK_V0,
  PARTITION_ATTRIBUTE_MASK_V1,
  totalMetadataSize,
} from './format.js';
import { checkGeometry } from './geometry.js';
import type { SuperBlockDevice, SuperExtent, SuperMetadata } from './types.js';

/** Is this a name liblp and Flashline accept (1–35 printable ASCII characters, no spaces)? */
export function isValidSuperName(name: string): boolean {
  return typeof name === 'string' && /^[\x21-\x7e]{1,35}$/.test(name);
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
