/**
 * GPT (UEFI spec, ch. 5): enough to find a partition by label on a Firehose device and to lay out the
 * virtual device's disk. Pure; shared with the virtual device. Header at LBA 1 (backup at the last LBA),
 * 128 entries of 128 bytes from LBA 2; CRC32 over the 92-byte header (its CRC field zeroed) and the entries.
 */
import { crc32 } from 'node:zlib';

export const GPT_ENTRY_SIZE = 128;
export const GPT_ENTRY_COUNT = 128;
const SIGNATURE = 'EFI PART';
/** "Basic data" type GUID bytes (EBD0A0A2-B9E5-4433-87C0-68B6B72699C7 in on-disk mixed-endian order). */
const BASIC_DATA = Buffer.from('a2a0d0ebe5b9334487c068b6b72699c7', 'hex');

export interface GptPartition {
  readonly label: string;
  readonly firstLba: number;
  readonly lastLba: number;
}

export class GptFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GptFormatError';
  }
}

/** Sectors the entry array takes. */
export function entrySectors(sectorSize: number): number {
  return Math.ceil((GPT_ENTRY_COUNT * GPT_ENTRY_SIZE) / sectorSize);
}

function entries(parts: readonly GptPartition[]): Buffer {
  const out = Buffer.alloc(GPT_ENTRY_COUNT * GPT_ENTRY_SIZE);
  for (const [i, p] of parts.entries()) {
    const e = out.subarray(i * GPT_ENTRY_SIZE, (i + 1) * GPT_ENTRY_SIZE);
    BASIC_DATA.copy(e, 0);
    e.writeUInt32LE(i + 1, 16); // unique GUID: deterministic, distinct
    e.writeBigUInt64LE(BigInt(p.firstLba), 32);
    e.writeBigUInt64LE(BigInt(p.lastLba), 40);
    e.write(p.label.slice(0, 36), 56, 'utf16le');
  }
  return out;
}

function header(sectorSize: number, totalSectors: number, backup: boolean, entriesCrc: number): Buffer {
  const es = entrySectors(sectorSize);
  const h = Buffer.alloc(sectorSize);
  h.write(SIGNATURE, 0, 'latin1');
  h.writeUInt32LE(0x00010000, 8);
  h.writeUInt32LE(92, 12);
  h.writeBigUInt64LE(BigInt(backup ? totalSectors - 1 : 1), 24);
  h.writeBigUInt64LE(BigInt(backup ? 1 : totalSectors - 1), 32);
  h.writeBigUInt64LE(BigInt(2 + es), 40);
  h.writeBigUInt64LE(BigInt(totalSectors - 2 - es), 48);
  h.writeUInt32LE(0x464c5348, 56); // disk GUID: fixed ("HSLF"), the simulation needs no uniqueness
  h.writeBigUInt64LE(BigInt(backup ? totalSectors - 1 - es : 2), 72);
  h.writeUInt32LE(GPT_ENTRY_COUNT, 80);
  h.writeUInt32LE(GPT_ENTRY_SIZE, 84);
  h.writeUInt32LE(entriesCrc, 88);
  h.writeUInt32LE(crc32(h.subarray(0, 92)), 16);
  return h;
}

/**
 * Primary (protective MBR + header + entries, from LBA 0) and backup (entries + header, ending at the last
 * LBA) regions of a disk with these partitions.
 */
export function encodeGpt(
  sectorSize: number,
  totalSectors: number,
  parts: readonly GptPartition[],
): { primary: Buffer; backup: Buffer } {
  const ent = entries(parts);
  const crc = crc32(ent);
  const mbr = Buffer.alloc(sectorSize);
  mbr[446 + 4] = 0xee; // protective partition type
  mbr.writeUInt32LE(1, 446 + 8);
  mbr.writeUInt32LE(Math.min(totalSectors - 1, 0xffffffff), 446 + 12);
  mbr[510] = 0x55;
  mbr[511] = 0xaa;
  const padded = Buffer.alloc(entrySectors(sectorSize) * sectorSize);
  ent.copy(padded);
  return {
    primary: Buffer.concat([mbr, header(sectorSize, totalSectors, false, crc), padded]),
    backup: Buffer.concat([padded, header(sectorSize, totalSectors, true, crc)]),
  };
}

/** Parse a GPT header sector. @throws GptFormatError */
export function parseGptHeader(sector: Uint8Array): {
  entriesLba: number;
  count: number;
  entrySize: number;
  entriesCrc: number;
} {
  const h = Buffer.from(sector.buffer, sector.byteOffset, sector.byteLength);
  if (h.byteLength < 92 || h.toString('latin1', 0, 8) !== SIGNATURE)
    throw new GptFormatError('no GPT header (signature "EFI PART" missing)');
  const size = h.readUInt32LE(12);
  if (size < 92 || size > h.byteLength) throw new GptFormatError(`GPT header size ${size}`);
  const copy = Buffer.from(h.subarray(0, size));
  copy.writeUInt32LE(0, 16);
  if (crc32(copy) !== h.readUInt32LE(16)) throw new GptFormatError('GPT header CRC mismatch');
  const count = h.readUInt32LE(80);
  const entrySize = h.readUInt32LE(84);
  if (entrySize < 128 || entrySize > 1024 || count > 1024)
    throw new GptFormatError(`GPT entries ${count} × ${entrySize}`);
  return { entriesLba: Number(h.readBigUInt64LE(72)), count, entrySize, entriesCrc: h.readUInt32LE(88) };
}

/** Parse the entry array (its CRC checked against the header's). */
export function parseGptEntries(bytes: Uint8Array, hdr: ReturnType<typeof parseGptHeader>): GptPartition[] {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const len = hdr.count * hdr.entrySize;
  if (b.byteLength < len) throw new GptFormatError('GPT entry array is short');
  if (crc32(b.subarray(0, len)) !== hdr.entriesCrc) throw new GptFormatError('GPT entry array CRC mismatch');
  const out: GptPartition[] = [];
  for (let i = 0; i < hdr.count; i++) {
    const e = b.subarray(i * hdr.entrySize, (i + 1) * hdr.entrySize);
    if (e.subarray(0, 16).every((x) => x === 0)) continue;
    const label = e.toString('utf16le', 56, 128).replace(/\0.*$/s, '');
    out.push({ label, firstLba: Number(e.readBigUInt64LE(32)), lastLba: Number(e.readBigUInt64LE(40)) });
  }
  return out;
}
