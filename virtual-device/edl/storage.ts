/**
 * The bricked device's flash: one sector-addressed disk (a sparse file in the state directory), eMMC with
 * 512-byte sectors or UFS with 4096-byte sectors, laid out with a GPT on first use. Positioned reads and
 * writes only: the disk is never held in memory.
 */
import { createHash } from 'node:crypto';
import { type FileHandle, open } from 'node:fs/promises';
import { encodeGpt, type GptPartition } from '../../main/protocol/firehose/gpt.js';

export type EdlStorageType = 'emmc' | 'ufs';

export const SECTOR_SIZES: Readonly<Record<EdlStorageType, number>> = { emmc: 512, ufs: 4096 };

/** Default layout in bytes (small: tests program whole partitions). */
export const DEFAULT_EDL_PARTITIONS: readonly { label: string; size: number }[] = [
  { label: 'xbl', size: 256 * 1024 },
  { label: 'abl', size: 256 * 1024 },
  { label: 'boot', size: 2 * 1024 * 1024 },
  { label: 'system', size: 8 * 1024 * 1024 },
  { label: 'userdata', size: 4 * 1024 * 1024 },
];

/**
 * Where each partition lies on a fresh disk of this type: after the primary GPT (34 sectors at 512, 6 at
 * 4096), aligned to 64 KiB like vendor layouts. make-rescue-dir writes the same layout.
 */
export function diskLayout(
  type: EdlStorageType,
  layout = DEFAULT_EDL_PARTITIONS,
): { partitions: GptPartition[]; totalSectors: number; sectorSize: number } {
  const ss = SECTOR_SIZES[type];
  const align = 65536 / ss;
  let lba = align;
  const partitions: GptPartition[] = layout.map((p) => {
    const sectors = Math.ceil(p.size / ss);
    const part = { label: p.label, firstLba: lba, lastLba: lba + sectors - 1 };
    lba += Math.ceil(sectors / align) * align;
    return part;
  });
  return { partitions, totalSectors: lba + align, sectorSize: ss };
}

export class SectorStorage {
  readonly partitions: GptPartition[];

  private constructor(
    readonly fh: FileHandle,
    readonly type: EdlStorageType,
    readonly sectorSize: number,
    readonly totalSectors: number,
    partitions: GptPartition[],
  ) {
    this.partitions = partitions;
  }

  static async open(
    path: string,
    type: EdlStorageType,
    layout = DEFAULT_EDL_PARTITIONS,
  ): Promise<SectorStorage> {
    const ss = SECTOR_SIZES[type];
    const { partitions: parts, totalSectors } = diskLayout(type, layout);
    const fh = await open(path, 'a+').then(async (h) => {
      await h.close();
      return open(path, 'r+');
    });
    const { size } = await fh.stat();
    const storage = new SectorStorage(fh, type, ss, totalSectors, parts);
    if (size === 0) {
      await fh.truncate(totalSectors * ss);
      const gpt = encodeGpt(ss, totalSectors, parts);
      await storage.write(0, gpt.primary);
      await storage.write((totalSectors - gpt.backup.byteLength / ss) * ss, gpt.backup);
    }
    return storage;
  }

  get byteSize(): number {
    return this.totalSectors * this.sectorSize;
  }

  async read(offset: number, length: number): Promise<Buffer> {
    const buf = Buffer.alloc(length);
    await this.fh.read(buf, 0, length, offset);
    return buf;
  }

  async write(offset: number, bytes: Uint8Array): Promise<void> {
    await this.fh.write(bytes, 0, bytes.byteLength, offset);
  }

  /** SHA-256 of a byte range, read in 1 MiB pieces. */
  async sha256(offset: number, length: number): Promise<string> {
    const h = createHash('sha256');
    for (let at = 0; at < length; ) {
      const n = Math.min(1 << 20, length - at);
      h.update(await this.read(offset + at, n));
      at += n;
    }
    return h.digest('hex');
  }

  async close(): Promise<void> {
    await this.fh.close().catch(() => {});
  }
}
