/** The engine's FlashPackage port over a package verified by main/package. */
import { basename } from 'node:path';
import { loadTrustStore, openPackage, type VerifiedPackage } from '../../package/index.js';
import type { FlashPackage } from '../ports.js';

export function flashPackageOf(verified: VerifiedPackage): FlashPackage {
  const m = verified.manifest;
  const erase = (m.install ?? []).flatMap((s) => (s.op === 'erase' ? [s.partition] : []));
  return {
    id: basename(verified.path).replace(/\.flp$/i, ''),
    version: m.version,
    // The signed manifest binds every image by size and hash, so its SHA-256 identifies the contents.
    sha256: verified.manifestSha256,
    rollbackIndex: m.rollbackIndex,
    products: m.products,
    ...(m.hardwareRevisions ? { hardwareRevisions: m.hardwareRevisions } : {}),
    ...(m.minBootloaderVersion ? { minBootloader: m.minBootloaderVersion } : {}),
    expectedVersion: m.expectedVersion,
    images: m.images.map((i) => ({
      partition: i.partition,
      size: i.size,
      sha256: i.sha256,
      slotted: i.slotted,
      sparse: i.sparse,
    })),
    ...(erase.length > 0 ? { erase } : {}),
    openImage: (partition, signal) => verified.openImage(partition, { signal }),
  };
}

/** Open and verify a package file for flashing, with the default trust dirs or the given ones. */
export async function openFlashPackage(
  path: string,
  options: { trustDirs?: readonly string[]; signal?: AbortSignal } = {},
): Promise<{ pkg: FlashPackage; verified: VerifiedPackage }> {
  const trust = await loadTrustStore(options.trustDirs ? { dirs: options.trustDirs } : {});
  const verified = await openPackage(path, { trust, ...(options.signal ? { signal: options.signal } : {}) });
  return { pkg: flashPackageOf(verified), verified };
}
