/** A small Android boot image for the virtual phones (the demo package and make-android-image share it). */
import { buildBootImageV3 } from '../../protocol/android/boot-image.js';

/** An Android boot image whose os_version is `version` (A.B.C); the kernel fills it to about `size` bytes. */
export function androidBootImage(version: string, size: number, patchLevel = '2026-11'): Buffer {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(version);
  if (!m) throw new RangeError(`version '${version}' must be A.B.C for an Android boot image`);
  const p = /^(\d{4})-(\d{2})$/.exec(patchLevel);
  if (!p) throw new RangeError(`patch level '${patchLevel}' must be YYYY-MM`);
  const [major, minor, patch] = [m[1], m[2], m[3]].map(Number) as [number, number, number];
  const page = 4096;
  return buildBootImageV3({
    kernel: Buffer.alloc(Math.max(page, size - 2 * page), 0x4b),
    ramdisk: Buffer.alloc(page, 0x52),
    osVersion: { major, minor, patch },
    osPatchLevel: { year: Number(p[1]), month: Number(p[2]) },
  });
}
