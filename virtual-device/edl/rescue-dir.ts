/**
 * A vendor-style Qualcomm rescue folder for the `qualcomm-edl` virtual device (`flashline virtual-device
 * make-rescue-dir`): a programmer the device accepts (simulation format, signed for its OEM PK hash), the
 * GPT (primary + backup), a boot chain that boots (xbl, abl as ELF files, boot as an Android boot image), a
 * system image, rawprogram0.xml and patch0.xml laid out as vendor folders are (absolute and
 * NUM_DISK_SECTORS-relative sectors, GPT CRC patches evaluated by the device).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { buildBootImageV3 } from '../../main/protocol/android/boot-image.js';
import { encodeGpt, entrySectors } from '../../main/protocol/firehose/gpt.js';
import { buildXml, type XmlElement } from '../../main/protocol/firehose/xml.js';
import { buildSimulatedProgrammer } from '../../main/protocol/sahara/programmer.js';
import { diskLayout, type EdlStorageType } from './storage.js';

export const RESCUE_PROGRAMMER_NAME = 'prog_firehose_ddr.elf';

export interface RescueDirOptions {
  readonly out: string;
  readonly storage?: EdlStorageType;
  readonly oemPkHash: Uint8Array;
}

export interface RescueDirResult {
  readonly dir: string;
  readonly storage: EdlStorageType;
  readonly files: readonly string[];
}

/** An ELF-looking image: the magic a boot ROM checks, then deterministic filler. */
function elfImage(name: string, size: number): Buffer {
  const out = Buffer.alloc(size);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]).copy(out);
  let seed = createHash('sha256').update(name).digest();
  for (let at = 64; at < size; at += 32) {
    seed = createHash('sha256').update(seed).digest();
    seed.copy(out, at);
  }
  return out;
}

export async function makeRescueDir(opts: RescueDirOptions): Promise<RescueDirResult> {
  const storage = opts.storage ?? 'ufs';
  const { partitions, totalSectors, sectorSize: ss } = diskLayout(storage);
  const gpt = encodeGpt(ss, totalSectors, partitions);
  const images: Record<string, Buffer> = {
    'xbl.elf': elfImage('xbl', 96 * 1024),
    'abl.elf': elfImage('abl', 128 * 1024),
    'boot.img': buildBootImageV3({
      kernel: elfImage('kernel', 1024 * 1024),
      ramdisk: Buffer.alloc(4096, 0x52),
      osVersion: { major: 1, minor: 0, patch: 0 },
      osPatchLevel: { year: 2026, month: 11 },
    }),
    'system.img': elfImage('system', 3 * 1024 * 1024 + 1234),
  };
  const forLabel: Record<string, string> = {
    xbl: 'xbl.elf',
    abl: 'abl.elf',
    boot: 'boot.img',
    system: 'system.img',
  };
  const common = (
    label: string,
    start: string,
    sectors: number,
    filename: string,
  ): Record<string, string> => ({
    SECTOR_SIZE_IN_BYTES: String(ss),
    file_sector_offset: '0',
    filename,
    label,
    num_partition_sectors: String(sectors),
    physical_partition_number: '0',
    start_sector: start,
  });
  const backupSectors = gpt.backup.byteLength / ss;
  const program: XmlElement[] = [
    { tag: 'program', attrs: common('PrimaryGPT', '0', gpt.primary.byteLength / ss, 'gpt_main0.bin') },
    ...partitions.map((p) => ({
      tag: 'program',
      attrs: common(p.label, String(p.firstLba), p.lastLba - p.firstLba + 1, forLabel[p.label] ?? ''),
    })),
    {
      tag: 'program',
      attrs: common('BackupGPT', `NUM_DISK_SECTORS-${backupSectors}.`, backupSectors, 'gpt_backup0.bin'),
    },
  ];
  // The headers' CRCs as vendor patch files recompute them on the device: entries CRC, zero, header CRC.
  const entriesBytes = entrySectors(ss) * ss;
  const patch = (what: string, sector: string, offset: number, value: string): XmlElement => ({
    tag: 'patch',
    attrs: {
      SECTOR_SIZE_IN_BYTES: String(ss),
      byte_offset: String(offset),
      filename: 'DISK',
      physical_partition_number: '0',
      size_in_bytes: '4',
      start_sector: sector,
      value,
      what,
    },
  });
  const backupHeader = 'NUM_DISK_SECTORS-1.';
  const patches: XmlElement[] = [
    patch('Update Primary Header with CRC of Partition Array.', '1', 88, `CRC32(2,${entriesBytes})`),
    patch('Zero Out Header CRC in Primary Header.', '1', 16, '0'),
    patch('Update Primary Header with CRC of Primary Header.', '1', 16, 'CRC32(1,92)'),
    patch(
      'Update Backup Header with CRC of Partition Array.',
      backupHeader,
      88,
      `CRC32(NUM_DISK_SECTORS-${backupSectors}.,${entriesBytes})`,
    ),
    patch('Zero Out Header CRC in Backup Header.', backupHeader, 16, '0'),
    patch('Update Backup Header with CRC of Backup Header.', backupHeader, 16, `CRC32(${backupHeader},92)`),
  ];
  await fs.mkdir(opts.out, { recursive: true });
  const files: Record<string, Uint8Array> = {
    [RESCUE_PROGRAMMER_NAME]: buildSimulatedProgrammer(
      opts.oemPkHash,
      // About the size of a real programmer's code, so the ROM asks for it in many pieces.
      `flashline simulated firehose (rescue) ${'.'.repeat(200_000)}`,
    ),
    'gpt_main0.bin': gpt.primary,
    'gpt_backup0.bin': gpt.backup,
    ...images,
    'rawprogram0.xml': Buffer.from(`${buildXml(program)}\n`),
    'patch0.xml': Buffer.from(`${buildXml(patches, 'patches')}\n`),
  };
  for (const [name, bytes] of Object.entries(files)) await fs.writeFile(join(opts.out, name), bytes);
  return { dir: opts.out, storage, files: Object.keys(files) };
}
