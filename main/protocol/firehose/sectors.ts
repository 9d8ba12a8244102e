/**
 * Sector addresses as rawprogram*.xml and patch*.xml write them: a plain number, or relative to the end of
 * the disk — `NUM_DISK_SECTORS-5.` (the trailing dot marks a decimal number, Qualcomm's convention).
 * Also the typed, validated form of those files' entries (the boundary where a vendor folder is read).
 */
import { parseXml, XmlFormatError } from './xml.js';

const EXPR = /^NUM_DISK_SECTORS\s*-\s*(\d+)\.?$/;

/** Resolve a start sector; throws RangeError for anything that is neither form. */
export function resolveSector(value: string | number, numDiskSectors: number): number {
  if (typeof value === 'number') return value;
  const v = value.trim();
  if (/^\d+\.?$/.test(v)) return Number(v.replace(/\.$/, ''));
  const m = EXPR.exec(v);
  if (m) {
    const n = numDiskSectors - Number(m[1]);
    if (n < 0) throw new RangeError(`${value} is before the start of a ${numDiskSectors}-sector disk`);
    return n;
  }
  throw new RangeError(`'${value}' is not a sector number or NUM_DISK_SECTORS-N.`);
}

export interface ProgramEntry {
  readonly kind: 'program' | 'erase';
  readonly label: string;
  readonly filename: string;
  readonly sectorSize: number;
  readonly physicalPartition: number;
  readonly startSector: string;
  readonly numSectors: number;
  /** Sectors into the file where the data starts (file_sector_offset). */
  readonly fileSectorOffset: number;
}

export interface PatchEntry {
  readonly filename: string;
  readonly sectorSize: number;
  readonly physicalPartition: number;
  readonly startSector: string;
  readonly byteOffset: number;
  readonly sizeInBytes: number;
  readonly value: string;
}

function int(attrs: Readonly<Record<string, string>>, key: string, where: string, fallback?: number): number {
  const v = attrs[key];
  if (v === undefined || v === '') {
    if (fallback !== undefined) return fallback;
    throw new XmlFormatError(`${where}: ${key} is missing`);
  }
  const t = v.trim().replace(/\.$/, '');
  if (!/^\d+$/.test(t) || !Number.isSafeInteger(Number(t)))
    throw new XmlFormatError(`${where}: ${key}="${v}" is not a number`);
  return Number(t);
}

function startSector(attrs: Readonly<Record<string, string>>, where: string): string {
  const v = attrs.start_sector;
  if (v === undefined) throw new XmlFormatError(`${where}: start_sector is missing`);
  resolveSector(v, Number.MAX_SAFE_INTEGER);
  return v.trim();
}

/** Parse rawprogram*.xml (`<data>` of `<program>`/`<erase>`). @throws XmlFormatError naming the entry */
export function parseRawprogram(text: string): ProgramEntry[] {
  const doc = parseXml(text);
  if (doc.root !== 'data') throw new XmlFormatError(`root <${doc.root}>; a rawprogram file has <data>`);
  const out: ProgramEntry[] = [];
  for (const [i, el] of doc.children.entries()) {
    if (el.tag !== 'program' && el.tag !== 'erase') continue;
    const where = `entry ${i + 1} (${el.attrs.label ?? el.tag})`;
    out.push({
      kind: el.tag,
      label: el.attrs.label ?? '',
      filename: el.attrs.filename ?? '',
      sectorSize: int(el.attrs, 'SECTOR_SIZE_IN_BYTES', where),
      physicalPartition: int(el.attrs, 'physical_partition_number', where, 0),
      startSector: startSector(el.attrs, where),
      numSectors: int(el.attrs, 'num_partition_sectors', where),
      fileSectorOffset: int(el.attrs, 'file_sector_offset', where, 0),
    });
  }
  return out;
}

/** Parse patch*.xml (`<patches>` of `<patch>`), keeping only DISK patches as qdl does. */
export function parsePatches(text: string): PatchEntry[] {
  const doc = parseXml(text);
  if (doc.root !== 'patches') throw new XmlFormatError(`root <${doc.root}>; a patch file has <patches>`);
  const out: PatchEntry[] = [];
  for (const [i, el] of doc.children.entries()) {
    if (el.tag !== 'patch' || el.attrs.filename !== 'DISK') continue;
    const where = `patch ${i + 1}`;
    const value = el.attrs.value;
    if (value === undefined) throw new XmlFormatError(`${where}: value is missing`);
    out.push({
      filename: 'DISK',
      sectorSize: int(el.attrs, 'SECTOR_SIZE_IN_BYTES', where),
      physicalPartition: int(el.attrs, 'physical_partition_number', where, 0),
      startSector: startSector(el.attrs, where),
      byteOffset: int(el.attrs, 'byte_offset', where),
      sizeInBytes: int(el.attrs, 'size_in_bytes', where),
      value,
    });
  }
  return out;
}
