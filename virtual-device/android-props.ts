/**
 * The system properties of the simulated Android (stock-android profile), derived from the device model:
 * identity from the secure element, the build from the booted slot's boot image (boot-image-info.ts), the
 * slot suffix from the slot the bootloader booted. Names and value formats follow what Android shows in
 * `getprop` and what the flash engine reads after a reboot.
 */
import type { VirtualDevice } from './device.js';

/** Model name shown in `adb devices -l` and the banner. */
export const VIRTUAL_PHONE_MODEL = 'Flashline Virtual Phone';
const BRAND = 'flashline';
const BUILD_ID = 'FLV1.0';

export function androidProperties(device: VirtualDevice, bootCompleted: boolean): Map<string, string> {
  const image = device.bootedImage;
  const version = image?.version ?? 'unknown';
  const slot = device.bootedSlot;
  const product = device.product;
  const props: [string, string][] = [
    ['ro.product.brand', BRAND],
    ['ro.product.manufacturer', 'Flashline'],
    ['ro.product.device', product],
    ['ro.product.name', product],
    ['ro.product.model', VIRTUAL_PHONE_MODEL],
    ['ro.serialno', device.serial],
    ['ro.boot.serialno', device.serial],
    ['ro.boot.hardware.revision', device.hardwareRevision],
    ['ro.bootloader', device.config.bootloaderVersion],
    ['ro.build.id', BUILD_ID],
    ['ro.build.type', 'user'],
    ['ro.build.tags', 'release-keys'],
    ['ro.build.version.incremental', version],
    ['ro.build.version.release', version],
    // Fingerprint format: BRAND/PRODUCT/DEVICE:RELEASE/ID/INCREMENTAL:TYPE/TAGS.
    [
      'ro.build.fingerprint',
      `${BRAND}/${product}/${product}:${version}/${BUILD_ID}/${version}:user/release-keys`,
    ],
    ['ro.build.ab_update', 'true'],
    ['ro.boot.slot_suffix', slot ? `_${slot}` : ''],
    ['ro.boot.mode', 'normal'],
    ['sys.boot_completed', bootCompleted ? '1' : '0'],
    ['dev.bootcomplete', bootCompleted ? '1' : '0'],
  ];
  // The boot image header carries year and month only; Android's property has a day, so it is the 1st.
  if (image?.securityPatch) props.push(['ro.build.version.security_patch', `${image.securityPatch}-01`]);
  return new Map(props.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}
