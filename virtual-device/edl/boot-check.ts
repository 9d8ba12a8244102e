/**
 * Whether the bricked device boots after a reset: a boot drive was set (setbootablestoragedrive), the
 * primary GPT is valid, and the boot chain's partitions hold what a boot ROM and bootloader load — an ELF
 * in xbl and abl, an Android boot image in boot. Only then does the simulated device leave EDL and come
 * back as a fastboot device (edl-device.ts); otherwise the ROM stays in Sahara, as a real one would.
 */
import { isBootImage } from '../../main/protocol/android/boot-image.js';
import { parseGptEntries, parseGptHeader } from '../../main/protocol/firehose/gpt.js';
import type { SectorStorage } from './storage.js';

const ELF = [0x7f, 0x45, 0x4c, 0x46];

/** null when the device boots, else why not (for the device's history and stderr). */
export async function whyNotBootable(
  storage: SectorStorage,
  bootableDrive: number | null,
): Promise<string | null> {
  if (bootableDrive === null) return 'no bootable storage drive was set';
  const ss = storage.sectorSize;
  let parts: ReturnType<typeof parseGptEntries>;
  try {
    const hdr = parseGptHeader(await storage.read(ss, ss));
    parts = parseGptEntries(await storage.read(hdr.entriesLba * ss, hdr.count * hdr.entrySize), hdr);
  } catch (err) {
    return `the GPT is not valid (${(err as Error).message})`;
  }
  const head = async (label: string) => {
    const p = parts.find((x) => x.label === label);
    return p ? storage.read(p.firstLba * ss, 4096) : null;
  };
  for (const label of ['xbl', 'abl']) {
    const h = await head(label);
    if (!h || !ELF.every((b, i) => h[i] === b)) return `${label} holds no bootable ELF image`;
  }
  const boot = await head('boot');
  if (!boot || !isBootImage(boot)) return 'boot holds no Android boot image';
  return null;
}
