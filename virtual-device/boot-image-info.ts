/**
 * What the bootloader learns from a slot's boot image: its version (and, for an Android image, its security
 * patch level) and its rollback index. Two formats are read: Flashline's virtual image header
 * (image-metadata.ts) and a real Android boot image header (`ANDROID!`, as Debian's mkbootimg writes it),
 * whose os_version A.B.C becomes the version. An Android header carries no rollback index (AVB's vbmeta
 * would), so it boots with index 0.
 */
import {
  formatOsVersion,
  formatPatchLevel,
  isBootImage,
  parseBootImageHeader,
} from '../main/protocol/android/boot-image.js';
import { type ImageMetadata, parseImageHeader, UNKNOWN_IMAGE } from './image-metadata.js';

export function bootImageMetadata(header: Uint8Array): ImageMetadata {
  const virtual = parseImageHeader(header);
  if (virtual) return virtual;
  if (!isBootImage(header)) return UNKNOWN_IMAGE;
  try {
    const h = parseBootImageHeader(header);
    if (!h) return UNKNOWN_IMAGE;
    const { major, minor, patch } = h.osVersion;
    const version = major + minor + patch === 0 ? 'unknown' : formatOsVersion(h.osVersion);
    const securityPatch = formatPatchLevel(h.osPatchLevel);
    return { version, rollbackIndex: 0, ...(securityPatch ? { securityPatch } : {}) };
  } catch {
    // A header this codec cannot read still boots (the kernel is what matters); its version is unknown.
    return UNKNOWN_IMAGE;
  }
}
