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
export {
  type AndroidImportOptions,
  type AndroidImportPlan,
  type AndroidImportResult,
  KNOWN_LOGICAL,
  type PlannedImage,
  packAndroidImage,
  planAndroidImage,
} from './import.js';
export { type AndroidImageSource, MAX_IMAGE_BYTES, openAndroidImage } from './source.js';
