/** The version facts an Android image's boot.img gives: its os_version and security patch level. */
import {
  formatOsVersion,
  formatPatchLevel,
  parseBootImageHeader,
} from '../../protocol/android/boot-image.js';
import { type AndroidImageSource, refuse } from './source-contract.js';

export async function bootVersion(
  source: AndroidImageSource,
  where: string,
): Promise<{ version?: string; patchIndex?: number } | undefined> {
  if (!source.files.has('boot.img')) return undefined;
  const head = await source.head('boot.img', 4096);
  let h: ReturnType<typeof parseBootImageHeader>;
  try {
    h = parseBootImageHeader(head);
  } catch (err) {
    throw refuse(
      `${where}: boot.img has an invalid boot image header (${(err as Error).message}).`,
      'bad_boot_image',
    );
  }
  if (!h) return undefined;
  const v = h.osVersion;
  const version = v.major + v.minor + v.patch > 0 ? formatOsVersion(v) : undefined;
  const patch = formatPatchLevel(h.osPatchLevel);
  const patchIndex = patch ? Number(patch.replace('-', '')) : undefined;
  return { ...(version ? { version } : {}), ...(patchIndex !== undefined ? { patchIndex } : {}) };
}
