/**
 * What kind of device the virtual device plays. One model (device.ts, boot.ts) serves both; a profile only
 * decides what the outside sees:
 * - `reference`: Flashline's own device — fastboot always listens (in the OS too), with the oem extensions
 *   and vendor variables the engine's reference path uses (docs/virtual-device.md).
 * - `stock-android`: a phone as it leaves a shop — it runs Android with ADB; fastboot answers only in the
 *   bootloader, with a real bootloader's variables and no oem commands; the slot is committed by the phone
 *   itself after a good boot (update_verifier), not by the host.
 * - `sink`: the reference device that discards the data it receives (sink.ts) — for benchmarks of the host
 *   and the link; no device-side hash. Pace it with `faults.rateBytesPerSecond` (`--rate`).
 */
export const DEVICE_PROFILES = ['reference', 'stock-android', 'sink'] as const;
export type DeviceProfile = (typeof DEVICE_PROFILES)[number];

export function isDeviceProfile(value: string): value is DeviceProfile {
  return (DEVICE_PROFILES as readonly string[]).includes(value);
}

/** Whether the profile offers Flashline's oem commands and vendor variables. */
export function hasFlashlineExtensions(profile: DeviceProfile): boolean {
  return profile === 'reference' || profile === 'sink';
}

/** The links a device offers in a mode: fastboot (TCP, pty, in-process) and ADB (TCP, in-process). */
export function linksIn(
  profile: DeviceProfile,
  mode: 'os' | 'bootloader' | 'fastbootd' | 'off',
): { readonly fastboot: boolean; readonly adb: boolean } {
  if (mode === 'off') return { fastboot: false, adb: false };
  if (profile !== 'stock-android') return { fastboot: true, adb: false };
  // fastbootd (userspace fastboot) answers on the same fastboot port as the bootloader.
  return { fastboot: mode === 'bootloader' || mode === 'fastbootd', adb: mode === 'os' };
}

/** Where a reboot goes: Android, the bootloader, or fastbootd (userspace fastboot, dynamic partitions only). */
export type RebootTarget = 'os' | 'bootloader' | 'fastboot';

/** A stock phone with dynamic partitions: one physical `super` holding the logical partitions. */
export interface DynamicPartitionsConfig {
  /** Size of the physical `super` partition in bytes (a sparse file in the state directory). */
  readonly superSize: number;
}

/** Timings of the simulated Android side (stock-android). */
export interface AndroidTimings {
  /** After Android starts: how long `sys.boot_completed` stays 0 (default 300 ms). */
  readonly bootCompletedMs?: number;
  /**
   * After boot_completed: when the phone marks the booted slot successful by itself (default 1000 ms), as
   * update_verifier does; it also raises the rollback index, as `oem mark-successful` does on the reference.
   */
  readonly markSuccessfulMs?: number;
}
