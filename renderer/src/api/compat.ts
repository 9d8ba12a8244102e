/**
 * Which connected devices an opened package fits, and why the others don't — shown before anything can
 * be flashed. The engine's preflight re-checks all of this on the device itself; this is the early word.
 */
import type { DeviceInfo, PackageView } from '../../../main/api/types.js';

export interface Fit {
  readonly fits: boolean;
  readonly reason: string;
}

export function packageFit(pkg: PackageView, device: DeviceInfo, now: number = Date.now()): Fit {
  if (Date.parse(pkg.expires) <= now) return { fits: false, reason: `the package expired on ${pkg.expires}` };
  // A phone in Android is flashed from there: the job reboots it into the bootloader itself.
  if (device.mode !== 'fastboot' && device.mode !== 'android') {
    return {
      fits: false,
      reason: `the device is in ${device.mode} mode; put it in fastboot mode or start Android`,
    };
  }
  if (device.authorization === 'unauthorized') {
    return {
      fits: false,
      reason: `USB debugging is not allowed for this computer yet: ${device.note ?? ''}`,
    };
  }
  if (device.state === 'identifying') return { fits: false, reason: 'the device is still being identified' };
  if (device.state === 'gone') return { fits: false, reason: 'the device is offline; reconnect it' };
  if (device.state === 'error') {
    return { fits: false, reason: `the device could not be identified (${device.note ?? 'no answer'})` };
  }
  if (device.sameAs) return { fits: false, reason: `the same unit is reached through ${device.sameAs}` };
  if (!device.product) return { fits: false, reason: 'the device did not report its product' };
  if (!pkg.products.includes(device.product)) {
    return {
      fits: false,
      reason: `product ${device.product} is not one of the package's (${pkg.products.join(', ')})`,
    };
  }
  if (
    pkg.hardwareRevisions &&
    device.hardwareRevision !== undefined &&
    !pkg.hardwareRevisions.includes(device.hardwareRevision)
  ) {
    return {
      fits: false,
      reason: `hardware revision ${device.hardwareRevision} is not one of ${pkg.hardwareRevisions.join(', ')}`,
    };
  }
  if (device.rollbackIndex !== undefined && device.rollbackIndex > pkg.rollbackIndex) {
    return {
      fits: false,
      reason: `the device's rollback index ${device.rollbackIndex} is newer than the package's ${pkg.rollbackIndex} (downgrade refused)`,
    };
  }
  if (device.state === 'busy') {
    return { fits: false, reason: 'the device is busy with another job' };
  }
  return { fits: true, reason: `product ${device.product}, rollback index allows ${pkg.rollbackIndex}` };
}
