/**
 * What a technician can ask of a device no job owns: reboot it (from Android or recovery, over its ADB
 * endpoint) into the bootloader, or take a modem (AT port) into download mode (EDL, modem-source.ts). Refusals say what is wrong and what to do; they never touch the device.
 */
import { FlashlineError } from '../common/errors.js';
import type { AdbRebootTarget } from '../protocol/adb/contract.js';
import type { DeviceInfo } from './device-info.js';
import { followUpOverAdb, readyAdbIds } from './modem-follow-up.js';
import type { DeviceRegistry } from './registry.js';

const REBOOT_TIMEOUT_MS = 10_000;

const TARGET_WORDS: Readonly<Record<AdbRebootTarget, string>> = {
  '': 'Android',
  bootloader: 'fastboot (the bootloader)',
  fastboot: 'fastbootd',
  recovery: 'recovery',
  edl: 'EDL',
  sideload: 'sideload',
};

/**
 * Reboot the unit `id` belongs to through whichever of its endpoints runs Android (or recovery) now.
 * Resolves with that endpoint as it now stands (identifying: the sources' polling finds the unit in its new
 * mode). @throws FlashlineError not_found / busy / not_possible
 */
export async function rebootDevice(
  registry: DeviceRegistry,
  id: string,
  target: AdbRebootTarget,
  signal: AbortSignal = AbortSignal.timeout(REBOOT_TIMEOUT_MS),
): Promise<DeviceInfo> {
  const device = registry.get(id);
  if (!device) {
    throw new FlashlineError(
      'not_found',
      `No device with id ${id} is connected. Run 'flashline devices' to list them.`,
    );
  }
  const unit = registry.endpointsOf(id).flatMap((e) => registry.get(e) ?? []);
  if (unit.some((e) => e.state === 'busy')) {
    throw new FlashlineError(
      'busy',
      `${label(device)} is busy with a job; wait until the job ends (or cancel it) before rebooting it.`,
    );
  }
  const adb = unit.find(
    (e) =>
      e.state === 'ready' &&
      // Modems go only to download mode; phones only where the API offers (the bootloader).
      (target === 'edl' ? e.mode === 'modem' : e.mode === 'android' || e.mode === 'recovery') &&
      registry.controlOf(e.id),
  );
  const control = adb && registry.controlOf(adb.id);
  if (target === 'edl' && (!adb || !control)) {
    throw new FlashlineError(
      'not_possible',
      `${label(device)} is in ${device.mode} mode: Flashline takes only modems identified on their AT port into download mode (EDL); a phone is rebooted only to the bootloader from here.`,
    );
  }
  if (!adb || !control) {
    const locked = unit.find((e) => e.authorization === 'unauthorized');
    throw new FlashlineError(
      'not_possible',
      locked
        ? `${label(device)} does not allow this computer over ADB yet. ${locked.note ?? ''}`.trim()
        : `${label(device)} is in ${device.mode} mode, not in Android: it can be rebooted to ${TARGET_WORDS[target]} only from Android (with USB debugging on). In fastboot it is ready to flash as it is.`,
    );
  }
  // ADB devices already here are never a modem's follow-up target (modem-follow-up.ts).
  const before = readyAdbIds(registry);
  let followUp: Awaited<ReturnType<typeof control.reboot>>;
  try {
    followUp = await control.reboot(target, signal);
  } catch (err) {
    throw new FlashlineError(
      'device_error',
      `${label(device)} did not take the reboot to ${TARGET_WORDS[target]}: ${err instanceof Error ? err.message : String(err)}. Check the connection and try again.`,
    );
  }
  // A modem's AT port vanishes as it re-enumerates in download mode; nothing polls that port again.
  if (adb.mode === 'modem') {
    const gone =
      registry.update(adb.id, {
        state: 'gone',
        note: followUp
          ? `switched to download mode; its AT port is gone — waiting for it over ADB to send: ${followUp.ifAdbAppears.map((c) => `adb ${c.join(' ')}`).join(', ')}`
          : 'switched to download mode (EDL); its AT port is gone',
      }) ?? adb;
    // The rest of the switch runs in the background: the API call returns once the modem took its part.
    if (followUp) void followUpOverAdb(registry, adb.id, followUp, before);
    return gone;
  }
  // The phone drops its ADB link now; say so at once rather than showing a stale "ready".
  return (
    registry.update(adb.id, { state: 'identifying', note: `rebooting to ${TARGET_WORDS[target]}` }) ?? adb
  );
}

function label(d: DeviceInfo): string {
  return d.serial ? `Device ${d.serial}` : `Device ${d.id}`;
}
