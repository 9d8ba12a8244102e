/**
 * Android boot image headers, versions 0–4 (AOSP `system/tools/mkbootimg`, include/bootimg/bootimg.h):
 * what Debian's `mkbootimg` writes and a bootloader reads. Little-endian, packed structs:
 *
 *   v0–v2: magic "ANDROID!", kernel size/addr, ramdisk size/addr, second size/addr, tags addr, page size,
 *          header_version, os_version, name[16], cmdline[512], id[32], extra_cmdline[1024]  (1632 bytes)
 *          v1 adds recovery_dtbo_size, recovery_dtbo_offset (u64), header_size               (1648 bytes)
 *          v2 adds dtb_size, dtb_addr (u64)                                                  (1660 bytes)
 *   v3–v4: magic, kernel_size, ramdisk_size, os_version, header_size, reserved[4], header_version (still at
 *          offset 40, so any header's version is read from the same place), cmdline[1536]   (1580 bytes)
 *          v4 adds signature_size                                                            (1584 bytes)
 *
 * os_version packs the OS version A.B.C (7 bits each, bits 31..11) and the security patch level
 * (year − 2000: 7 bits, month: 4 bits). Pure functions on bytes, shared by the virtual device and tests.
 */

export const BOOT_MAGIC = 'ANDROID!';
/** v3+ images have a fixed 4 KiB page. */
export const BOOT_IMAGE_V3_PAGE_SIZE = 4096;
const NAME_SIZE = 16;
const ARGS_SIZE = 512;
const EXTRA_ARGS_SIZE = 1024;
const V3_ARGS_SIZE = ARGS_SIZE + EXTRA_ARGS_SIZE;

/** Header size in bytes per header version. */
export const BOOT_HEADER_SIZES = [1632, 1648, 1660, 1580, 1584] as const;

export interface OsVersion {
  readonly major: number;
  readonly minor: number;
  readonly patch: number;
}
/** Security patch level; month 0 = not set. */
export interface PatchLevel {
  readonly year: number;
  readonly month: number;
}

interface HeaderCommon {
  readonly kernelSize: number;
  readonly ramdiskSize: number;
  readonly osVersion: OsVersion;
  readonly osPatchLevel: PatchLevel;
  /** The kernel command line (v0–v2: cmdline and extra_cmdline joined). */
  readonly cmdline: string;
}

/** Header versions 0–2 (fields of later versions are 0 for earlier ones). */
export interface BootImageHeaderV0 extends HeaderCommon {
  readonly headerVersion: 0 | 1 | 2;
  readonly kernelAddr: number;
  readonly ramdiskAddr: number;
  readonly secondSize: number;
  readonly secondAddr: number;
  readonly tagsAddr: number;
  readonly pageSize: number;
  /** Board / product name (at most 16 bytes). */
  readonly name: string;
  /** The 32-byte id (mkbootimg: a SHA-1 of the contents, zero padded), hex. */
  readonly id: string;
  readonly recoveryDtboSize: number;
  readonly recoveryDtboOffset: bigint;
  readonly dtbSize: number;
  readonly dtbAddr: bigint;
}

/** Header versions 3–4 (signatureSize is 0 for v3). */
export interface BootImageHeaderV3 extends HeaderCommon {
  readonly headerVersion: 3 | 4;
  readonly signatureSize: number;
}

export type BootImageHeader = BootImageHeaderV0 | BootImageHeaderV3;

/** Bytes that start with the magic but are not a header this codec reads. */
export class BootImageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BootImageError';
  }
}

export function isBootImage(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && Buffer.from(bytes.subarray(0, 8)).toString('latin1') === BOOT_MAGIC;
}

// ---- os_version ----

const bits7 = (n: number, what: string) => {
  if (!Number.isInteger(n) || n < 0 || n > 127) throw new RangeError(`${what} ${n} must be 0-127`);
  return n;
};

export function packOsVersion(v: OsVersion, p: PatchLevel): number {
  const year = bits7(p.year - 2000, 'patch-level year − 2000');
  if (!Number.isInteger(p.month) || p.month < 0 || p.month > 15)
    throw new RangeError(`patch-level month ${p.month} must be 0-15`);
  const version = (bits7(v.major, 'major') << 14) | (bits7(v.minor, 'minor') << 7) | bits7(v.patch, 'patch');
  return ((version << 11) | (year << 4) | p.month) >>> 0;
}

export function unpackOsVersion(packed: number): { osVersion: OsVersion; osPatchLevel: PatchLevel } {
  const version = packed >>> 11;
  return {
    osVersion: { major: (version >>> 14) & 0x7f, minor: (version >>> 7) & 0x7f, patch: version & 0x7f },
    osPatchLevel: { year: 2000 + ((packed >>> 4) & 0x7f), month: packed & 0xf },
  };
}

/** "A.B.C" */
export function formatOsVersion(v: OsVersion): string {
  return `${v.major}.${v.minor}.${v.patch}`;
}

/** "YYYY-MM", or null when no patch level is set (month 0). */
export function formatPatchLevel(p: PatchLevel): string | null {
  return p.month === 0 ? null : `${p.year}-${String(p.month).padStart(2, '0')}`;
}

// ---- parse ----

function cString(bytes: Buffer, offset: number, size: number): string {
  const field = bytes.subarray(offset, offset + size);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? size : end).toString('latin1');
}

/**
 * Parse the header at the start of `bytes`. Returns null without the `ANDROID!` magic; throws
 * BootImageError for a header version above 4 or bytes too short for the header they announce.
 */
export function parseBootImageHeader(bytes: Uint8Array): BootImageHeader | null {
  if (!isBootImage(bytes)) return null;
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.byteLength < 44) throw new BootImageError(`boot image header truncated at ${b.byteLength} bytes`);
  const headerVersion = b.readUInt32LE(40);
  if (headerVersion > 4) throw new BootImageError(`boot image header version ${headerVersion} is not 0-4`);
  const need = BOOT_HEADER_SIZES[headerVersion]!;
  if (b.byteLength < need) {
    throw new BootImageError(`boot image header v${headerVersion} needs ${need} bytes, got ${b.byteLength}`);
  }
  if (headerVersion >= 3) {
    return {
      headerVersion: headerVersion as 3 | 4,
      kernelSize: b.readUInt32LE(8),
      ramdiskSize: b.readUInt32LE(12),
      ...unpackOsVersion(b.readUInt32LE(16)),
      cmdline: cString(b, 44, V3_ARGS_SIZE),
      signatureSize: headerVersion === 4 ? b.readUInt32LE(1580) : 0,
    };
  }
  const v = headerVersion as 0 | 1 | 2;
  return {
    headerVersion: v,
    kernelSize: b.readUInt32LE(8),
    kernelAddr: b.readUInt32LE(12),
    ramdiskSize: b.readUInt32LE(16),
    ramdiskAddr: b.readUInt32LE(20),
    secondSize: b.readUInt32LE(24),
    secondAddr: b.readUInt32LE(28),
    tagsAddr: b.readUInt32LE(32),
    pageSize: b.readUInt32LE(36),
    ...unpackOsVersion(b.readUInt32LE(44)),
    name: cString(b, 48, NAME_SIZE),
    cmdline: cString(b, 64, ARGS_SIZE) + cString(b, 608, EXTRA_ARGS_SIZE),
    id: b.subarray(576, 608).toString('hex'),
    recoveryDtboSize: v >= 1 ? b.readUInt32LE(1632) : 0,
    recoveryDtboOffset: v >= 1 ? b.readBigUInt64LE(1636) : 0n,
    dtbSize: v >= 2 ? b.readUInt32LE(1648) : 0,
    dtbAddr: v >= 2 ? b.readBigUInt64LE(1652) : 0n,
  };
}

// ---- write ----

function ascii(text: string, max: number, what: string): Buffer {
  const bad = [...text].some((c) => c.charCodeAt(0) === 0 || c.charCodeAt(0) > 0xff);
  if (text.length > max || bad)
    throw new RangeError(`${what} must be at most ${max} Latin-1 characters without NUL`);
  return Buffer.from(text, 'latin1');
}

/** The header's bytes (exactly BOOT_HEADER_SIZES[version] long). Throws RangeError for unencodable fields. */
export function encodeBootImageHeader(h: BootImageHeader): Buffer {
  const out = Buffer.alloc(BOOT_HEADER_SIZES[h.headerVersion]);
  out.write(BOOT_MAGIC, 0, 'latin1');
  out.writeUInt32LE(h.headerVersion, 40);
  const osVersion = packOsVersion(h.osVersion, h.osPatchLevel);
  if (h.headerVersion >= 3) {
    const v3 = h as BootImageHeaderV3;
    out.writeUInt32LE(v3.kernelSize, 8);
    out.writeUInt32LE(v3.ramdiskSize, 12);
    out.writeUInt32LE(osVersion, 16);
    out.writeUInt32LE(out.byteLength, 20);
    ascii(v3.cmdline, V3_ARGS_SIZE - 1, 'cmdline').copy(out, 44);
    if (v3.headerVersion === 4) out.writeUInt32LE(v3.signatureSize, 1580);
    return out;
  }
  const v0 = h as BootImageHeaderV0;
  const words = [v0.kernelSize, v0.kernelAddr, v0.ramdiskSize, v0.ramdiskAddr, v0.secondSize];
  for (const [i, w] of [...words, v0.secondAddr, v0.tagsAddr, v0.pageSize].entries())
    out.writeUInt32LE(w, 8 + 4 * i);
  out.writeUInt32LE(osVersion, 44);
  ascii(v0.name, NAME_SIZE, 'name').copy(out, 48);
  // As mkbootimg does: the first 511 bytes go to cmdline (NUL-terminated), the rest to extra_cmdline.
  const cmdline = ascii(v0.cmdline, ARGS_SIZE - 1 + EXTRA_ARGS_SIZE - 1, 'cmdline');
  cmdline.subarray(0, ARGS_SIZE - 1).copy(out, 64);
  cmdline.subarray(ARGS_SIZE - 1).copy(out, 608);
  const id = Buffer.from(v0.id, 'hex');
  if (id.byteLength !== 32 || id.toString('hex') !== v0.id.toLowerCase())
    throw new RangeError('id must be 64 hex digits');
  id.copy(out, 576);
  if (v0.headerVersion >= 1) {
    out.writeUInt32LE(v0.recoveryDtboSize, 1632);
    out.writeBigUInt64LE(v0.recoveryDtboOffset, 1636);
    out.writeUInt32LE(out.byteLength, 1644);
  }
  if (v0.headerVersion === 2) {
    out.writeUInt32LE(v0.dtbSize, 1648);
    out.writeBigUInt64LE(v0.dtbAddr, 1652);
  }
  return out;
}

/**
 * A whole v3 boot image (header page, kernel, ramdisk, each padded to 4 KiB), as training and tests use
 * it: the virtual device reads its version and patch level like a bootloader reads them.
 */
export function buildBootImageV3(options: {
  readonly kernel: Uint8Array;
  readonly ramdisk: Uint8Array;
  readonly osVersion: OsVersion;
  readonly osPatchLevel: PatchLevel;
  readonly cmdline?: string;
}): Buffer {
  const page = BOOT_IMAGE_V3_PAGE_SIZE;
  const pad = (n: number) => Math.ceil(n / page) * page;
  const header = encodeBootImageHeader({
    headerVersion: 3,
    kernelSize: options.kernel.byteLength,
    ramdiskSize: options.ramdisk.byteLength,
    osVersion: options.osVersion,
    osPatchLevel: options.osPatchLevel,
    cmdline: options.cmdline ?? '',
    signatureSize: 0,
  });
  const out = Buffer.alloc(page + pad(options.kernel.byteLength) + pad(options.ramdisk.byteLength));
  header.copy(out, 0);
  Buffer.from(options.kernel).copy(out, page);
  Buffer.from(options.ramdisk).copy(out, page + pad(options.kernel.byteLength));
  return out;
}
