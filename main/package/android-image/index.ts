/**
 * Android factory/update images: reading them into a Flashline package (`flashline pack
 * --from-android-image`) and making small ones for tests and training (`flashline virtual-device
 * make-android-image`). See docs/android-images.md.
 */
export {
  type AndroidInfo,
  type AndroidRequirement,
  type PackageRequirements,
  parseAndroidInfo,
  requirementsForPackage,
} from './android-info.js';
export { packAndroidImage } from './import.js';
export type {
  AndroidImportOptions,
  AndroidImportPlan,
  AndroidImportResult,
  PlannedImage,
} from './import-types.js';
export { KNOWN_LOGICAL } from './logical-images.js';
export { planAndroidImage } from './plan.js';
export { openAndroidImage } from './source.js';
export { type AndroidImageSource, MAX_IMAGE_BYTES } from './source-contract.js';
