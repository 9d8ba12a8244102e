/**
 * How a device's mode and ADB authorization read on screen, and whether it can be rebooted to fastboot
 * from here (only a device that runs Android or recovery, allows this computer, and no job owns).
 */
import type { DeviceInfo, DeviceMode } from '../../../main/api/types.js';

export const MODE_LABELS: Readonly<Record<DeviceMode, string>> = {
  android: 'Android',
  recovery: 'Recovery',
  fastboot: 'Fastboot',
  fastbootd: 'Fastbootd',
  edl: 'EDL',
  modem: 'Modem',
  unknown: 'Unknown',
};

/** `Allowed` / `Not allowed` for ADB endpoints; undefined for the others (nothing to authorize). */
export function authorizationLabel(device: DeviceInfo): string | undefined {
  if (device.authorization === 'authorized') return 'Allowed';
  if (device.authorization === 'unauthorized') return 'Not allowed';
  return undefined;
}

export interface RebootOffer {
  /** Whether the card shows the action at all (devices in Android or recovery). */
  readonly shown: boolean;
  readonly enabled: boolean;
  /** Why it is disabled, for the button's title. */
  readonly why?: string;
}

/** "Enter download mode" for a modem identified on its AT port (vendor table: resources/modems). */
export function enterDownloadModeOffer(device: DeviceInfo): RebootOffer {
  if (device.mode !== 'modem') return { shown: false, enabled: false };
  if (device.state === 'busy') return { shown: true, enabled: false, why: 'A job owns this device' };
  if (device.state !== 'ready') return { shown: true, enabled: false, why: 'The modem is not identified' };
  return { shown: true, enabled: true };
}

export function rebootToFastbootOffer(device: DeviceInfo): RebootOffer {
  if (device.mode !== 'android' && device.mode !== 'recovery') return { shown: false, enabled: false };
  if (device.sameAs) return { shown: false, enabled: false };
  if (device.authorization === 'unauthorized')
    return { shown: true, enabled: false, why: 'Allow USB debugging on the phone first' };
  if (device.state === 'busy') return { shown: true, enabled: false, why: 'A job owns this device' };
  if (device.state !== 'ready') return { shown: true, enabled: false, why: 'The device is not ready' };
  return { shown: true, enabled: true };
}
