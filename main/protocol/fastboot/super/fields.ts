/**
 * Field-level helpers for liblp's on-disk structs: checksums, byte copies, little-endian u64 fields, name
 * fields, integer range checks and the header size of each header version. Shared by the geometry and
 * metadata codecs.
 */
import { createHash } from 'node:crypto';
import { SuperFormatError } from './errors.js';
import { HEADER_V1_0_SIZE, HEADER_V1_2_SIZE, LP_NAME_SIZE } from './format.js';

export function sha256(bytes: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(bytes).digest());
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A real copy (Buffer#slice would return a view and let us zero the caller's bytes). */
export function copyOf(bytes: Uint8Array, start: number, end: number): Uint8Array {
  return Uint8Array.prototype.slice.call(bytes, start, end);
}

export function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function u64(dv: DataView, offset: number, where: string, field: string): number {
  const v = dv.getBigUint64(offset, true);
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new SuperFormatError(where, `${field} ${v} is beyond what Flashline can represent (2^53 − 1)`);
  }
  return Number(v);
}

export function putU64(dv: DataView, offset: number, value: number): void {
  dv.setBigUint64(offset, BigInt(value), true);
}

/** A name field: 1–35 printable ASCII characters, NUL-terminated, zero-padded. */
export function readName(bytes: Uint8Array, offset: number, where: string): string {
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

export function writeName(bytes: Uint8Array, offset: number, name: string): void {
  for (let i = 0; i < name.length; i++) bytes[offset + i] = name.charCodeAt(i);
}

export function isUint(v: number, max = Number.MAX_SAFE_INTEGER): boolean {
  return Number.isInteger(v) && v >= 0 && v <= max;
}

export const U32 = 0xffffffff;

export function headerSizeFor(minor: number): number {
  return minor >= 2 ? HEADER_V1_2_SIZE : HEADER_V1_0_SIZE;
}
