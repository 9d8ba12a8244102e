/** Dynamic partitions as the standard (AOSP) fastboot variables or Android show them. */
import { parseSizeVar } from '../protocol/fastboot/vars.js';
import type { DeviceCapabilities, DynamicPartitions } from './capability-types.js';

/** The standard (AOSP) fastboot variables of dynamic partitions. */
const SUPER_NAME_VAR = 'super-partition-name';
const IS_LOGICAL_VAR = 'is-logical:';
const PARTITION_SIZE_VAR = 'partition-size:';
const USERSPACE_VAR = 'is-userspace';

/** The variable that tells userspace fastboot (fastbootd, `yes`) from the bootloader. */
export function userspaceVariable(): string {
  return USERSPACE_VAR;
}

/** The variable holding a partition's size (`partition-size:NAME`). */
export function partitionSizeVariable(partition: string): string {
  return `${PARTITION_SIZE_VAR}${partition}`;
}

/** The variable saying whether a partition is logical (`is-logical:NAME`). */
export function isLogicalVariable(partition: string): string {
  return `${IS_LOGICAL_VAR}${partition}`;
}

/** Dynamic partitions as the variables (or, failing those, Android) show them; undefined when none. */
export function dynamicPartitionsOf(
  vars: ReadonlyMap<string, string> | undefined,
  androidFlag: string | undefined,
): DynamicPartitions | undefined {
  const named = vars?.get(SUPER_NAME_VAR)?.trim();
  const logical = [...(vars ?? new Map<string, string>())]
    .filter(([k, v]) => k.startsWith(IS_LOGICAL_VAR) && v.trim() === 'yes')
    .map(([k]) => k.slice(IS_LOGICAL_VAR.length));
  if (!named && logical.length === 0 && androidFlag?.trim() !== 'true') return undefined;
  const superPartition = named || 'super';
  const sizeText = vars?.get(partitionSizeVariable(superPartition));
  const superSize = sizeText === undefined ? undefined : parseSizeVar(sizeText.trim());
  return { superPartition, ...(superSize !== undefined ? { superSize } : {}), logical };
}

/** What a device with dynamic partitions lacks for Flashline to check and drive them. */
export function dynamicUnavailable(
  dynamic: DynamicPartitions | undefined,
  reboot: DeviceCapabilities['reboot'],
): string[] {
  if (!dynamic) return [];
  return [
    ...(dynamic.superSize === undefined ? [UNAVAILABLE_DYNAMIC.superSize] : []),
    ...(reboot.fastbootd ? [] : [UNAVAILABLE_DYNAMIC.fastbootd]),
  ];
}

/** Said only for devices with dynamic partitions. */
export const UNAVAILABLE_DYNAMIC = {
  superSize:
    'super partition size not reported in this mode: logical images are sized against the package layout until fastbootd reports it',
  fastbootd:
    'userspace fastboot (fastbootd) not reachable from this mode: packages with logical partitions cannot be flashed from here',
} as const;
