/**
 * Every decision that needs only the package head, in a fixed order: signatures (trust store, threshold) →
 * expiry → product, hardware, bootloader and Flashline versions → anti-rollback (device, station) →
 * decryption key. Nothing from the images is read before these pass.
 */
import { FLASHLINE_VERSION } from '../common/version.js';
import { PKG, pkgError } from './codes.js';
import { unwrapContentKey } from './encryption.js';
import type { PackageHead } from './head.js';
import type { StationPrivateKey } from './keys.js';
import { compareVersions } from './manifest.js';
import type { StationRollbackStore } from './rollback-store.js';
import { checkSignatures, type SignerInfo, type TrustStore } from './trust-store.js';

export interface OpenPackageOptions {
  readonly trust: TrustStore;
  readonly now?: Date;
  /** The rollback index the device reports; the package must not be below it. */
  readonly deviceRollbackIndex?: number;
  /** The device's product id; must be one of the manifest's products. */
  readonly product?: string;
  readonly hardwareRevision?: string;
  readonly bootloaderVersion?: string;
  readonly stationRollback?: StationRollbackStore;
  /** Station keys for encrypted packages. */
  readonly decryptionKeys?: readonly StationPrivateKey[];
  readonly flashlineVersion?: string;
  readonly signal?: AbortSignal;
}

export interface TrustedHead {
  readonly signers: SignerInfo[];
  readonly contentKey?: Buffer;
}

/** Every decision that needs only the head. Throws a FlashlineError with the 2x sub-code. */
export async function checkHead(head: PackageHead, options: OpenPackageOptions): Promise<TrustedHead> {
  const { manifest } = head;
  const now = options.now ?? new Date();
  const signers = checkSignatures(options.trust, manifest, head.manifestBytes, head.signatures, now);
  if (now.getTime() > Date.parse(manifest.expires)) {
    throw pkgError(PKG.expired, `Package expired on ${manifest.expires}; refusing a possibly frozen copy.`, {
      expires: manifest.expires,
    });
  }
  const wrong = (msg: string) => pkgError(PKG.wrongProduct, msg, { products: manifest.products });
  if (options.product !== undefined && !manifest.products.includes(options.product)) {
    throw wrong(`Package is for ${manifest.products.join(', ')}, not for product ${options.product}.`);
  }
  if (
    options.hardwareRevision !== undefined &&
    manifest.hardwareRevisions &&
    !manifest.hardwareRevisions.includes(options.hardwareRevision)
  ) {
    throw wrong(
      `Package supports hardware revision(s) ${manifest.hardwareRevisions.join(', ')}, not ${options.hardwareRevision}.`,
    );
  }
  if (
    options.bootloaderVersion !== undefined &&
    manifest.minBootloaderVersion &&
    compareVersions(options.bootloaderVersion, manifest.minBootloaderVersion) < 0
  ) {
    throw wrong(
      `Package needs bootloader ${manifest.minBootloaderVersion} or newer; the device has ${options.bootloaderVersion}.`,
    );
  }
  const ours = options.flashlineVersion ?? FLASHLINE_VERSION;
  if (manifest.minFlashlineVersion && compareVersions(ours, manifest.minFlashlineVersion) < 0) {
    throw wrong(
      `Package needs Flashline ${manifest.minFlashlineVersion} or newer; this is ${ours}. Update Flashline.`,
    );
  }
  if (options.deviceRollbackIndex !== undefined && manifest.rollbackIndex < options.deviceRollbackIndex) {
    throw pkgError(
      PKG.rollbackRefused,
      `Package rollback index ${manifest.rollbackIndex} is below the device's ${options.deviceRollbackIndex}; downgrade refused.`,
      {
        package: manifest.rollbackIndex,
        device: options.deviceRollbackIndex,
      },
    );
  }
  if (options.stationRollback) {
    for (const product of options.product !== undefined ? [options.product] : manifest.products) {
      const highest = await options.stationRollback.highest(product);
      if (manifest.rollbackIndex < highest) {
        throw pkgError(
          PKG.rollbackRefused,
          `Package rollback index ${manifest.rollbackIndex} is below ${highest}, already flashed for ${product} by this station; downgrade refused.`,
          {
            package: manifest.rollbackIndex,
            station: highest,
            product,
          },
        );
      }
    }
  }
  const contentKey = head.encryption
    ? unwrapContentKey(head.encryption, options.decryptionKeys ?? [])
    : undefined;
  return { signers, ...(contentKey ? { contentKey } : {}) };
}
