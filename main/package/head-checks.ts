/**
 * Every decision that needs only the package head, in a fixed order: signatures (trust store, threshold) →
 * expiry → product, hardware, bootloader and Flashline versions → anti-rollback (device, station) →
 * decryption key. Nothing from the images is read before these pass. The device checks are
 * `checkPackageFits`, which the engine's preflight calls too (one implementation for both).
 */
import { FLASHLINE_VERSION } from '../common/version.js';
import { PKG, pkgError } from './codes.js';
import { unwrapContentKey } from './encryption.js';
import type { PackageHead } from './head.js';
import type { StationPrivateKey } from './keys.js';
import { compareVersions, type PackageKind } from './manifest.js';
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
  /** openPackage: the kind the caller handles (default `firmware`); another kind is refused (27). */
  readonly kind?: PackageKind | 'any';
  readonly signal?: AbortSignal;
}

export interface TrustedHead {
  readonly signers: SignerInfo[];
  readonly contentKey?: Buffer;
}

/** What a package says about the devices it is for (its signed manifest fits as it is). */
export interface PackageTarget {
  readonly products: readonly string[];
  readonly hardwareRevisions?: readonly string[] | undefined;
  readonly minBootloaderVersion?: string | undefined;
  readonly minFlashlineVersion?: string | undefined;
  readonly rollbackIndex: number;
}

/** What is known of the device and this Flashline. */
export interface DeviceFacts {
  readonly product?: string | undefined;
  readonly hardwareRevision?: string | undefined;
  readonly bootloaderVersion?: string | undefined;
  readonly rollbackIndex?: number | undefined;
  readonly flashlineVersion?: string | undefined;
}

export interface FitOptions {
  /** The highest rollback index this station has flashed for a product, if any. */
  readonly stationRollback?: ((product: string) => Promise<number | undefined>) | undefined;
  /**
   * The facts are what a connected device reported: one it did not report is refused where the package
   * restricts it (preflight). Otherwise an absent fact is simply not checked (verify without a device).
   */
  readonly reported?: boolean;
}

/**
 * The one package-against-device check, used by `verify`/open (with what the caller knows) and by the
 * engine's preflight (with what the device reports): product, hardware revision, bootloader and Flashline
 * versions, then anti-rollback against the device and the station. Throws a FlashlineError with code 27
 * (wrong_product) or 26 (rollback_refused), in a technician's words.
 */
export async function checkPackageFits(
  target: PackageTarget,
  facts: DeviceFacts,
  options: FitOptions = {},
): Promise<void> {
  const wrong = (msg: string, detail: object) =>
    pkgError(PKG.wrongProduct, msg, { products: target.products, ...detail });
  const unknown = (fact: string | undefined, restricted: boolean) =>
    fact === undefined && restricted && options.reported === true;
  const { product, hardwareRevision: hw, bootloaderVersion: bootloader } = facts;
  if ((product !== undefined && !target.products.includes(product)) || unknown(product, true)) {
    throw wrong(
      `This package is for ${target.products.join(', ')}, but the device is ${product ?? 'an unknown product'}. Use a package made for this device.`,
      { product },
    );
  }
  const revisions = target.hardwareRevisions ?? [];
  if (
    (hw !== undefined && revisions.length > 0 && !revisions.includes(hw)) ||
    unknown(hw, revisions.length > 0)
  ) {
    throw wrong(
      `The package supports hardware revision(s) ${revisions.join(', ')}; the device is ${hw ?? 'of unknown revision'}. Use a package made for this revision.`,
      { hardwareRevision: hw },
    );
  }
  const minBootloader = target.minBootloaderVersion;
  if (
    (bootloader !== undefined && minBootloader && compareVersions(bootloader, minBootloader) < 0) ||
    unknown(bootloader, minBootloader !== undefined)
  ) {
    throw wrong(
      `The package needs bootloader ${minBootloader} or newer; the device has ${bootloader ?? 'an unknown version'}. Update the bootloader first.`,
      { bootloader, minBootloader },
    );
  }
  const ours = facts.flashlineVersion;
  const minOurs = target.minFlashlineVersion;
  if (ours !== undefined && minOurs && compareVersions(ours, minOurs) < 0) {
    throw wrong(`The package needs Flashline ${minOurs} or newer; this is ${ours}. Update Flashline.`, {
      flashlineVersion: ours,
    });
  }
  const device = facts.rollbackIndex;
  if (device !== undefined && target.rollbackIndex < device) {
    throw pkgError(
      PKG.rollbackRefused,
      `The package's rollback index ${target.rollbackIndex} is below the device's ${device}: installing it would be a downgrade. Use a newer package.`,
      { package: target.rollbackIndex, device },
    );
  }
  if (!options.stationRollback) return;
  for (const p of product !== undefined ? [product] : target.products) {
    const highest = await options.stationRollback(p);
    if (highest !== undefined && target.rollbackIndex < highest) {
      throw pkgError(
        PKG.rollbackRefused,
        `This station already flashed ${p} with rollback index ${highest}; the package has ${target.rollbackIndex}. Use a newer package.`,
        { package: target.rollbackIndex, station: highest, product: p },
      );
    }
  }
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
  const station = options.stationRollback;
  await checkPackageFits(
    manifest,
    {
      product: options.product,
      hardwareRevision: options.hardwareRevision,
      bootloaderVersion: options.bootloaderVersion,
      rollbackIndex: options.deviceRollbackIndex,
      flashlineVersion: options.flashlineVersion ?? FLASHLINE_VERSION,
    },
    { stationRollback: station ? (product) => station.highest(product) : undefined },
  );
  const contentKey = head.encryption
    ? unwrapContentKey(head.encryption, options.decryptionKeys ?? [])
    : undefined;
  return { signers, ...(contentKey ? { contentKey } : {}) };
}
