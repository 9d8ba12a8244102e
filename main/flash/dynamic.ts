/**
 * Dynamic partitions: a package with `logical` images (partitions inside super) and one `super-layout`
 * image (`super_empty.img`). Preflight (in the bootloader) reads the layout the package carries, checks it
 * against the super partition the device reports and sizes the logical images of the target slot in it —
 * with the shared super codec's layout operations — before anything is written. The logical phase then
 * runs in userspace fastboot: the target slot is made active first (as Google's `fastboot update` does, so
 * that fastbootd's update-super keeps the logical partitions of the working slot, the one not booted), the
 * layout is applied with `update-super` (never wiping), the target slot's logical partitions are created or
 * resized to the image sizes, and the images are written piece by piece like any other (journaled,
 * resumable). Every command goes through the session's logical-partition port; the capability record says
 * whether the device has dynamic partitions, what super is called and how to reach fastbootd.
 */
import type { DynamicPartitions } from '../devices/capability-types.js';
import { partitionSizeVariable } from '../devices/dynamic-partition-vars.js';
import type { SuperMetadata } from '../protocol/fastboot/super/index.js';
import { normalizeSlot } from '../protocol/fastboot/vars.js';
import { isJobFailure, JOB_CODES, jobFailure } from './codes.js';
import { downloadTimeout, type JobContext, op, session, slotted } from './context.js';
import { getvar, parseSize } from './device-vars.js';
import { logicalImages, superLayoutImage } from './dynamic-images.js';
import { capabilities } from './facts.js';
import { ensureMode } from './modes.js';
import { DeviceLinkError } from './ports.js';
import { readLayout } from './super-layout-read.js';
import { sizeLogicalImages } from './super-sizing.js';
import { switchSlot } from './switch-slot.js';

/** The device's dynamic partitions, or a refusal (27) saying the package needs them. */
export function dynamicOf(ctx: JobContext): DynamicPartitions {
  const caps = capabilities(ctx);
  const dyn = caps.dynamicPartitions;
  if (!dyn) {
    throw jobFailure(
      JOB_CODES.wrongProduct,
      `The package holds logical partitions (${logicalImages(ctx.pkg)
        .map((i) => i.partition)
        .join(
          ', ',
        )}) for a device with dynamic partitions (super), but this device reports none. Use the package made for this device model.`,
    );
  }
  if (caps.mode !== 'fastbootd' && !caps.reboot.fastbootd) {
    throw jobFailure(
      JOB_CODES.wrongProduct,
      `The package's logical partitions are written in userspace fastboot (fastbootd), which Flashline cannot reach on this device (${caps.profile.name}). Use a package for this device model.`,
    );
  }
  return dyn;
}
/** The sizes the target slot's logical partitions get: each image's expanded size on the device. */
function targetSizes(ctx: JobContext, slot: string): { name: string; size: number }[] {
  return logicalImages(ctx.pkg).map((img) => {
    const name = img.slotted ? slotted(img.partition, slot) : img.partition;
    const plan = ctx.imagePlans.get(name);
    if (!plan) throw new Error(`no piece plan for ${name}`);
    return { name, size: plan.deviceSize };
  });
}

/**
 * Preflight of a package with logical images (after the piece plans are made): the device has dynamic
 * partitions and a way into fastbootd, the layout parses, fits the device's super and holds the images.
 */
export async function preflightLogical(
  ctx: JobContext,
  slots: { target: string; old: string },
): Promise<void> {
  const dyn = dynamicOf(ctx);
  const { layout } = await readLayout(ctx);
  ctx.superLayout = layout;
  // The bootloader may not report the super's size; fastbootd does (checked there again before writing).
  const superSize = dyn.superSize ?? (await superSizeOf(ctx, dyn.superPartition));
  sizeLogicalImages(
    layout,
    { superName: dyn.superPartition, superSize },
    [],
    targetSizes(ctx, slots.target),
    slots,
  );
}

async function superSizeOf(ctx: JobContext, name: string): Promise<number | undefined> {
  const text = await getvar(ctx, partitionSizeVariable(name));
  return text === undefined ? undefined : parseSize(partitionSizeVariable(name), text);
}

/**
 * Leave the bootloader for the logical phase: make the target slot active (journaled, so a failure or a
 * resumed job sets the working slot back), as Google's client does before entering fastbootd.
 */
export async function beginLogical(ctx: JobContext): Promise<void> {
  await activateTarget(ctx);
  ctx.logicalSteps.add('begin');
  await ctx.journal.append({ type: 'logical', step: 'begin' });
}

/** set_active to the target slot (from the bootloader); a failure from here on sets the working slot back. */
async function activateTarget(ctx: JobContext): Promise<void> {
  ctx.targetActive = true;
  await switchSlot(ctx, (slot) => `The device refused to make slot ${slot} active for fastbootd`);
}

/**
 * fastbootd must run from the target slot before update-super, which keeps only the partitions of the slot
 * not current. A resumed job whose device was set back to its working slot (rollback) or rebooted into it
 * goes through the bootloader once more: set_active there, back into fastbootd.
 */
async function onTargetSlot(ctx: JobContext, target: string): Promise<void> {
  const current = async () => normalizeSlot((await getvar(ctx, 'current-slot')) ?? '');
  if ((await current()) === target) return;
  await ensureMode(ctx, 'fastboot');
  await activateTarget(ctx);
  await ensureMode(ctx, 'fastbootd');
  const now = await current();
  if (now !== target) {
    throw jobFailure(
      JOB_CODES.switchFailed,
      `The device runs fastbootd from slot ${now ?? '?'}, not slot ${target}, after set_active ${target}; the working slot's logical partitions would not be kept. It stays on its working slot.`,
    );
  }
}

/**
 * In fastbootd, before the logical images are written: check the space again with what fastbootd reports
 * (super size, the working slot's logical partitions), apply the package's layout with update-super (once:
 * journaled) and give each target partition its image's size.
 */
export async function prepareLogical(ctx: JobContext): Promise<void> {
  const plan = ctx.plan;
  const layout = ctx.superLayout;
  if (!plan || !layout) throw new Error('logical phase without a plan or layout');
  await ensureMode(ctx, 'fastbootd');
  const dyn = dynamicOf(ctx);
  const cmds = session(ctx).logical;
  if (!cmds) {
    throw jobFailure(
      JOB_CODES.wrongProduct,
      'This connection cannot drive logical partitions (update-super, resize-logical-partition); connect the device over USB or TCP fastboot.',
    );
  }
  const t = ctx.options.timeouts;
  if (!ctx.logicalSteps.has('super')) {
    await onTargetSlot(ctx, plan.targetSlot);
    const working = await workingLogical(ctx, layout, plan.oldSlot);
    const superSize = dyn.superSize ?? (await superSizeOf(ctx, dyn.superPartition));
    sizeLogicalImages(
      layout,
      { superName: dyn.superPartition, superSize },
      working,
      targetSizes(ctx, plan.targetSlot),
      {
        target: plan.targetSlot,
        old: plan.oldSlot,
      },
    );
    const image = superLayoutImage(ctx.pkg);
    if (!image) throw new Error('no super layout image');
    const s = session(ctx);
    await op(ctx, `download ${image.partition}`, downloadTimeout(ctx, image.size), (o) =>
      s.download(image.size, ctx.pkg.openImage(image.partition, ctx.signal), o),
    );
    await refusedAs(JOB_CODES.wrongProduct, `update-super ${dyn.superPartition}`, () =>
      op(ctx, `update-super ${dyn.superPartition}`, t.commandMs, (o) =>
        cmds.updateSuper(dyn.superPartition, o),
      ),
    );
    ctx.logicalSteps.add('super');
    await ctx.journal.append({ type: 'logical', step: 'super' });
  }
  for (const { name, size } of targetSizes(ctx, plan.targetSlot)) {
    const text = await getvar(ctx, partitionSizeVariable(name));
    const now = text === undefined ? undefined : parseSize(partitionSizeVariable(name), text);
    if (now === size) continue;
    await refusedAs(JOB_CODES.insufficientStorage, `size ${name}`, () =>
      op(ctx, `${now === undefined ? 'create' : 'resize'} ${name}`, t.commandMs, (o) =>
        now === undefined ? cmds.createPartition(name, size, o) : cmds.resizePartition(name, size, o),
      ),
    );
  }
}

/** The working slot's logical partitions (as the layout names them for that slot) at their device sizes. */
async function workingLogical(
  ctx: JobContext,
  layout: SuperMetadata,
  oldSlot: string,
): Promise<{ name: string; size: number }[]> {
  const names = new Set([
    ...layout.partitions.map((p) => p.name).filter((n) => n.endsWith(`_${oldSlot}`)),
    ...logicalImages(ctx.pkg)
      .filter((i) => i.slotted)
      .map((i) => slotted(i.partition, oldSlot)),
  ]);
  const out: { name: string; size: number }[] = [];
  for (const name of names) {
    const text = await getvar(ctx, partitionSizeVariable(name));
    if (text !== undefined) out.push({ name, size: parseSize(partitionSizeVariable(name), text) });
  }
  return out;
}

/** A device FAIL on a logical-partition command becomes `code` with the device's words. */
async function refusedAs<T>(code: number, what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isJobFailure(err)) throw err;
    if (err instanceof DeviceLinkError && err.kind === 'device-fail') {
      throw jobFailure(code, `The device refused ${what}: ${err.deviceMessage ?? err.message}`);
    }
    throw err;
  }
}
