/** The images of a package with dynamic partitions, by where they are written (bootloader or fastbootd). */
import { type FlashImage, type FlashPackage, kindOf } from './ports.js';

/** Physical images written to the inactive slot from the bootloader. */
export function physicalSlotted(pkg: FlashPackage): FlashImage[] {
  return pkg.images.filter((i) => kindOf(i) === 'partition' && i.slotted);
}

/** Shared physical images (install stage). */
export function sharedImages(pkg: FlashPackage): FlashImage[] {
  return pkg.images.filter((i) => kindOf(i) === 'partition' && !i.slotted);
}

/** Logical images (written in fastbootd). */
export function logicalImages(pkg: FlashPackage): FlashImage[] {
  return pkg.images.filter((i) => kindOf(i) === 'logical');
}

export function superLayoutImage(pkg: FlashPackage): FlashImage | undefined {
  return pkg.images.find((i) => kindOf(i) === 'super-layout');
}

/** The package needs fastbootd: it holds logical images. */
export function isDynamicPackage(pkg: FlashPackage): boolean {
  return logicalImages(pkg).length > 0;
}
