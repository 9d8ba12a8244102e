/**
 * Metadata (header + tables) encoder of liblp's format. Encoding validates the model (see
 * {@link validateSuperMetadata}) and lays the tables out as liblp's writer does (partitions, extents, groups,
 * block devices, contiguous after the header).
 */
import { SuperFormatError } from './errors.js';
import { headerSizeFor, putU64, sha256, view, writeName } from './fields.js';
import {
  BLOCK_DEVICE_ENTRY_SIZE,
  EXTENT_ENTRY_SIZE,
  GROUP_ENTRY_SIZE,
  LP_HEADER_MAGIC,
  PARTITION_ENTRY_SIZE,
  TARGET_TYPE_LINEAR,
  TARGET_TYPE_ZERO,
} from './format.js';
import type { SuperMetadata } from './types.js';
import { validateSuperMetadata } from './validate.js';

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
