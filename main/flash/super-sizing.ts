/**
 * Sizing the target slot's logical images in the package's super layout, with the shared super codec's layout
 * operations: pure, before anything is written.
 */
import {
  createPartition,
  LP_DEFAULT_GROUP,
  resizePartition,
  SuperLayoutError,
  type SuperMetadata,
} from '../protocol/fastboot/super/index.js';
import { JOB_CODES, jobFailure } from './codes.js';

/** Bytes the block devices of a layout describe (the super size it was made for). */
function layoutSuperSize(layout: SuperMetadata): number {
  return layout.blockDevices.reduce((a, b) => a + b.size, 0);
}

/** The group a new partition `name` goes to: the layout's own, or the one of the same slot. */
function groupFor(layout: SuperMetadata, name: string, slot: string): string {
  const own = layout.partitions.find((p) => p.name === name);
  if (own) return own.group;
  const ofSlot = layout.groups.filter((g) => g.name.endsWith(`_${slot}`));
  if (ofSlot.length === 1 && ofSlot[0]) return ofSlot[0].name;
  return layout.groups.find((g) => g.name !== LP_DEFAULT_GROUP)?.name ?? LP_DEFAULT_GROUP;
}

/** Give `name` exactly `size` bytes in `layout` (create it when the layout does not list it). */
function place(layout: SuperMetadata, name: string, size: number, slot: string): SuperMetadata {
  return layout.partitions.some((p) => p.name === name)
    ? resizePartition(layout, name, size)
    : createPartition(layout, { name, group: groupFor(layout, name, slot), size });
}

/**
 * Size the target slot's logical images in the package's layout, with the working slot's logical
 * partitions at the sizes the device reports (`working`, empty in the bootloader). A layout made for a
 * larger super than the device's is refused 27 (another device model); images that do not fit the super's
 * free space or their group's maximum are refused 13. Both before anything is written.
 */
export function sizeLogicalImages(
  layout: SuperMetadata,
  device: { superName: string; superSize: number | undefined },
  working: readonly { name: string; size: number }[],
  targets: readonly { name: string; size: number }[],
  slots: { target: string; old: string },
): SuperMetadata {
  const made = layoutSuperSize(layout);
  // fastbootd applies a layout (without wiping) only to the super it was made for, as liblp compares the
  // block devices: a larger one cannot fit, a smaller one is another device's.
  if (device.superSize !== undefined && made !== device.superSize) {
    throw jobFailure(
      JOB_CODES.wrongProduct,
      made > device.superSize
        ? `The package's super layout is for a super partition of ${made} bytes, but this device's ${device.superName} holds only ${device.superSize}. The package is for another model or storage size; use the package made for this device.`
        : `The package's super layout is for a super partition of ${made} bytes, but this device's ${device.superName} has ${device.superSize}. The package is for another model or storage size; use the package made for this device.`,
      { layoutSuperSize: made, deviceSuperSize: device.superSize },
    );
  }
  const named = layout.blockDevices[0]?.partitionName;
  if (named !== undefined && named !== device.superName) {
    throw jobFailure(
      JOB_CODES.wrongProduct,
      `The package's super layout is for a super partition named ${named}, but this device's is ${device.superName}. Use the package made for this device model.`,
    );
  }
  const model = placeAll(layout, working, slots.old, (err) =>
    jobFailure(
      JOB_CODES.wrongProduct,
      `The package's super layout cannot hold the partitions slot ${slots.old} is running from (${err.message}); use the package made for this device.`,
    ),
  );
  const need = targets.reduce((a, t) => a + t.size, 0);
  return placeAll(model, targets, slots.target, (err) =>
    jobFailure(
      JOB_CODES.insufficientStorage,
      `The logical images of slot ${slots.target} need ${need} bytes in ${device.superName}, which does not have room for them next to slot ${slots.old}: ${err.message}. Use the package made for this device model.`,
      { needed: need },
    ),
  );
}

/** Place every partition of `list`; the codec's refusal becomes `refuse(err)`. */
function placeAll(
  layout: SuperMetadata,
  list: readonly { name: string; size: number }[],
  slot: string,
  refuse: (err: SuperLayoutError) => Error,
): SuperMetadata {
  let model = layout;
  try {
    for (const p of list) model = place(model, p.name, p.size, slot);
  } catch (err) {
    if (!(err instanceof SuperLayoutError)) throw err;
    throw refuse(err);
  }
  return model;
}
