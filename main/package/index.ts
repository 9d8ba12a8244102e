/**
 * The package layer's public API. Everything else in main/package is internal.
 *   openPackage → a verified handle whose openImage() yields only verified bytes;
 *   verifyPackage → one streaming pass over everything, as a result object;
 *   packPackage / generateKeyPair / loadTrustStore / StationRollbackStore / createDemoPackage.
 * Every rejection is a FlashlineError whose code is a verify_failed sub-code (20..29).
 */
export { cacheDir, type ImportResult, importPackage } from './cache.js';
export { isPackageCode, type PackageCode, PKG } from './codes.js';
export {
  createDemoPackage,
  DEMO_SIGNING_KEY_PATH,
  DEMO_TRUST_KEY_PATH,
  type DemoImage,
  type DemoPackageOptions,
} from './demo.js';
export type { OpenPackageOptions } from './head-checks.js';
export {
  type GeneratedKeyPair,
  generateKeyPair,
  type KeygenOptions,
  type KeyKind,
  loadSigningPrivateKey,
  loadSigningPublicKey,
  loadStationPrivateKey,
  loadStationPublicKey,
  readKeyFileType,
  type SigningPrivateKey,
  type StationPrivateKey,
  type StationPublicKey,
  writeKeyPair,
} from './keys.js';
export {
  compareVersions,
  FORMAT_VERSION,
  IMAGE_KINDS,
  type ImageKind,
  type InstallStep,
  imageKind,
  type Manifest,
  type ManifestImage,
  type PackageKind,
  packageKind,
} from './manifest.js';
export { openPackage, type VerifiedPackage } from './reader.js';
export { RESCUE_STORAGE_TYPES, type RescueSection } from './rescue-manifest.js';
export { StationRollbackStore } from './rollback-store.js';
export {
  defaultTrustDirs,
  loadTrustStore,
  type SignerInfo,
  type TrustedKey,
  type TrustStore,
} from './trust-store.js';
export {
  type InspectResult,
  inspectPackage,
  type PackageSummary,
  type VerifyResult,
  verifyPackage,
} from './verify.js';
export { type PackImageInput, type PackOptions, type PackResult, packPackage } from './writer.js';
