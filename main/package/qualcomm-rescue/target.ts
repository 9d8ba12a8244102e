/**
 * Whether a rescue package is for the device in EDL: the manifest may list the MSM HW ids and OEM PK hashes
 * (as Sahara command mode reports them) it is for. A device that does not report a restricted fact is
 * refused, as a fastboot device that does not report its product is (27, wrong_product).
 */
import { PKG, pkgError } from '../codes.js';
import type { RescueSection } from '../rescue-manifest.js';

export interface EdlIdentityFacts {
  readonly msmHwId?: string | undefined;
  readonly oemPkHash?: string | undefined;
}

/** @throws FlashlineError 27 naming the fact, the allowed values and what the device reports */
export function checkRescueTarget(section: RescueSection, device: EdlIdentityFacts | undefined): void {
  const facts: [string, readonly string[] | undefined, string | undefined][] = [
    ['MSM HW id', section.msmHwIds, device?.msmHwId],
    ['OEM PK hash', section.oemPkHashes, device?.oemPkHash],
  ];
  for (const [what, allowed, reported] of facts) {
    if (!allowed || (reported !== undefined && allowed.includes(reported.toLowerCase()))) continue;
    throw pkgError(
      PKG.wrongProduct,
      device
        ? `This rescue package is for devices with ${what} ${allowed.join(', ')}; the device reports ${reported ?? 'none'}. Use the rescue package made for this device.`
        : 'A programmer already runs on the device, so it cannot say which device it is, and this rescue package is only for certain devices. Power-cycle the device into EDL and retry.',
      { [what]: reported ?? null, allowed },
    );
  }
}
