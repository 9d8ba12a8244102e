/** The capability record's types: what a device is and how each fact is read or each step is done. */
import type { DeviceMode } from './device-info.js';

/** How one fact is read: a fastboot variable, an Android property, or a shell command's output. */
export type FactSource =
  | { readonly via: 'getvar'; readonly name: string }
  | { readonly via: 'prop'; readonly name: string }
  | { readonly via: 'shell'; readonly command: string; readonly pattern?: string };

/** A vendor fastboot command (`oem ARGS…`); `{partition}`, `{slot}`, `{slotIndex}` are filled in when run. */
export interface VendorCommand {
  readonly via: 'oem';
  readonly args: readonly string[];
}

/** How to reboot into a mode from the current one. */
export type RebootHow =
  | { readonly via: 'adb'; readonly target: 'bootloader' | 'fastboot' | 'recovery' | 'edl' }
  | { readonly via: 'fastboot'; readonly target: 'bootloader' | 'fastboot' }
  | VendorCommand;

/** How the postcheck confirms a boot in Android (ADB), whatever mode the device was flashed in. */
export interface AndroidConfirm {
  readonly serial: string;
  readonly product: string;
  readonly build: string;
  readonly slotSuffix: string;
  readonly bootCompleted: string;
  readonly version?: FactSource;
  readonly battery?: FactSource;
  /** How to get from Android into the bootloader (rollback after a bad postcheck in Android). */
  readonly toBootloader?: RebootHow;
  /** A command exiting 0 once the slot is marked successful (the device commits itself), polled ≤ waitMs. */
  readonly commitConfirm?: { readonly command: string; readonly waitMs: number };
}

export interface DeviceCapabilities {
  readonly profile: { readonly id: string; readonly name: string; readonly verifiedOnHardware: boolean };
  readonly mode: DeviceMode;
  /** A/B slots as probed (fastboot `slot-count`/`current-slot`, Android slot suffix); absent when unknown. */
  readonly slots?: { readonly count: number; readonly current: string };
  /** Facts readable in `mode`; absent = not available on this device in this mode. */
  readonly runningVersion?: FactSource;
  readonly rollbackIndex?: FactSource;
  readonly battery?: FactSource;
  readonly freeSpace?: FactSource;
  /** Device-side hash of a written partition (fastboot). */
  readonly deviceHash?: VendorCommand;
  /** Commit of the booted slot: by the host in fastboot, or the device's own after Android boots. */
  readonly commit: { readonly by: 'host'; readonly command: VendorCommand } | { readonly by: 'device' };
  readonly reboot: {
    readonly bootloader?: RebootHow;
    readonly fastbootd?: RebootHow;
    readonly edl?: RebootHow;
  };
  /**
   * Dynamic partitions (Android 10+): logical partitions inside one super partition, written in userspace
   * fastboot (fastbootd). Absent when the device shows none (no `super-partition-name`, no `is-logical:`
   * partition, no Android dynamic-partitions property).
   */
  readonly dynamicPartitions?: DynamicPartitions;
  /** Where the device is expected after a normal reboot (the postcheck accepts either). */
  readonly afterReboot: 'fastboot' | 'android';
  /** The postcheck in fastboot: version variable and commit command (absent → said in the report). */
  readonly fastbootConfirm: { readonly version?: FactSource; readonly commit?: VendorCommand };
  readonly androidConfirm: AndroidConfirm;
  /** One sentence per thing that cannot be checked on this device, for the report and the screen. */
  readonly unavailable: readonly string[];
}

export interface DynamicPartitions {
  /** The super partition's name (`super-partition-name`; AOSP's `super` when only Android says so). */
  readonly superPartition: string;
  /** Bytes of the super partition (`partition-size:<super>`), when this mode reports it. */
  readonly superSize?: number;
  /** Partitions this mode reports as logical (`is-logical:<p>` = yes), with slot suffix. */
  readonly logical: readonly string[];
}
