/**
 * Storage type and sector size detection (edl #756, qdl #187 ask for it): configure with each type (the
 * preferred one first, else ufs, emmc, nand) until one is accepted, then read sector 1 at the type's usual
 * sector size and the other until one is accepted; otherwise a StorageDetectError asking for --storage.
 */
import {
  type CallOptions,
  type ConfigureResult,
  type FirehoseClient,
  STORAGE_TYPES,
  type StorageType,
} from './client.js';
import { FirehoseNakError, StorageDetectError } from './errors.js';

/**
 * Find storage type and sector size: configure with each type until one is accepted, then read sector 1
 * at 512 and 4096 bytes until one is accepted. @throws StorageDetectError naming what was tried
 */
export async function detectStorage(
  client: FirehoseClient,
  opts: CallOptions & { prefer?: StorageType } = {},
): Promise<ConfigureResult & { sectorSize: number }> {
  const order = opts.prefer
    ? [opts.prefer, ...STORAGE_TYPES.filter((t) => t !== opts.prefer)]
    : (['ufs', 'emmc', 'nand'] as const);
  const tried: string[] = [];
  const logs: string[] = [];
  for (const storage of order) {
    tried.push(storage);
    let cfg: ConfigureResult;
    try {
      cfg = await client.configure(storage, opts);
    } catch (err) {
      if (!(err instanceof FirehoseNakError)) throw err;
      logs.push(...err.deviceLog);
      continue;
    }
    for (const sectorSize of storage === 'emmc' ? [512, 4096] : [4096, 512]) {
      tried.push(`${storage} ${sectorSize}-byte sectors`);
      try {
        await client.read(
          { sectorSize, physicalPartition: 0, startSector: 1, numSectors: 1 },
          () => {},
          opts,
        );
        return { ...cfg, sectorSize };
      } catch (err) {
        if (!(err instanceof FirehoseNakError)) throw err;
        logs.push(...err.deviceLog);
      }
    }
  }
  throw new StorageDetectError(tried, logs);
}
