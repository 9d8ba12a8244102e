/**
 * Geometry codec of liblp's format: the 52-byte struct (checksummed, zero-padded to 4096 bytes) that says how
 * big and how many metadata copies follow. Pure functions over small buffers.
 */

import { SuperFormatError } from './errors.js';
import { copyOf, equalBytes, isUint, sha256, U32, view } from './fields.js';
import {
  GEOMETRY_STRUCT_SIZE,
  HEADER_V1_2_SIZE,
  LP_GEOMETRY_MAGIC,
  LP_GEOMETRY_SIZE,
  LP_SECTOR_SIZE,
  MAX_METADATA_MAX_SIZE,
  MAX_SLOT_COUNT,
} from './format.js';
import type { SuperGeometry } from './types.js';

export function checkGeometry(g: SuperGeometry): void {
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
