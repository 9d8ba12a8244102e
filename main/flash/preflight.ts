/**
 * preflight: identify the device and check the package against it before anything is written — product,
 * hardware revision, minimum bootloader, anti-rollback (device and station), slots, storage and battery.
 * The device's capability record (detected here) says how each fact is read; what it lacks is reported.
 * On a resumed job it also checks that the device is the same unit and still on the slot the job started on.
 */
import { UNAVAILABLE } from '../devices/capabilities.js';
import { checkPackageFits } from '../package/head-checks.js';
import { normalizeSlot, otherSlot } from '../protocol/fastboot/vars.js';
import { leaveAndroid } from './android-preflight.js';
import { JOB_CODES, jobFailure } from './codes.js';
import { type JobContext, type JobPlan, slotted } from './context.js';
import { getvar, parseSize } from './device-vars.js';
import { preflightLogical } from './dynamic.js';
import { isDynamicPackage } from './dynamic-images.js';
import { capabilities, checkBattery, detectInFastboot, readFact } from './facts.js';
import { planFor } from './image-plans.js';
import { ensureMode } from './modes.js';
import { pieceLimit } from './pieces.js';
import { kindOf } from './ports.js';
import { checkDeviceRequirements } from './requirements.js';

export { getvar, parseSize } from './device-vars.js';

const MiB = 1024 * 1024;

export interface ResumePoint {
  readonly plan: JobPlan;
  /** The journal shows the switch was started: the device may already be on the target slot. */
  readonly afterSwitch: boolean;
  /** The target slot was made active for fastbootd (logical phase begun): the device may be on it. */
  readonly targetActive?: boolean;
}

export async function preflight(ctx: JobContext, resumePoint: ResumePoint | undefined): Promise<JobPlan> {
  const resume = resumePoint?.plan;
  const pkg = ctx.pkg;
  // A device found in Android is identified over ADB and rebooted to its bootloader first.
  if (ctx.android) await leaveAndroid(ctx, resume?.serial);
  // Detected once per run of the stage (a resumed job detects again: the record is a function of the device).
  let caps = await detectInFastboot(ctx);
  ctx.capabilities = caps;
  const dynamic = isDynamicPackage(pkg);
  // Physical images are written from the bootloader: a device found in fastbootd goes there first, unless
  // a resumed job is already past them (logical phase begun).
  if (dynamic && caps.mode === 'fastbootd' && !ctx.logicalSteps.has('begin')) {
    await ensureMode(ctx, 'fastboot');
    caps = capabilities(ctx);
  }
  if (!ctx.androidProps) ctx.report.device({ mode: caps.mode });
  const product = await getvar(ctx, 'product');
  const serial = await getvar(ctx, 'serialno');
  const hw = await getvar(ctx, 'hw-revision');
  const bootloader = await getvar(ctx, 'version-bootloader');
  const current = await getvar(ctx, 'current-slot');
  const version = await readFact(ctx, caps.runningVersion);
  ctx.report.device({
    product,
    serial,
    hardwareRevision: hw,
    bootloader,
    slotBefore: current,
    versionBefore: version,
    profile: caps.profile.id,
  });
  ctx.report.unchecked(caps.unavailable);

  const deviceIndexText = await readFact(ctx, caps.rollbackIndex);
  // The package's own checks, the same code `flashline verify` runs, with what this device reports.
  await checkPackageFits(
    {
      products: pkg.products,
      hardwareRevisions: pkg.hardwareRevisions,
      minBootloaderVersion: pkg.minBootloader,
      rollbackIndex: pkg.rollbackIndex,
    },
    {
      product,
      hardwareRevision: hw,
      bootloaderVersion: bootloader,
      rollbackIndex: deviceIndexText === undefined ? undefined : parseSize('rollback index', deviceIndexText),
    },
    { reported: true, stationRollback: async (p) => ctx.options.rollbackRecord?.highest(p) },
  );
  // The package's android-info.txt requirements (bootloader, baseband, board…), as the device reports them.
  await checkDeviceRequirements(ctx);
  // What only a job needs of the device: a serial to track it by, and the same unit as before a resume.
  if (!product || !serial) {
    throw jobFailure(
      JOB_CODES.identityMismatch,
      'The device did not report a serial number, so it cannot be tracked safely.',
    );
  }
  if (resume && resume.serial !== serial) {
    throw jobFailure(
      JOB_CODES.identityMismatch,
      `This is device ${serial}, but the interrupted job was started on ${resume.serial}. Connect the original device.`,
    );
  }

  const slotCount = Number((await getvar(ctx, 'slot-count')) ?? '0');
  if (!current || !(slotCount >= 2)) {
    throw jobFailure(
      JOB_CODES.noInactiveSlot,
      'The device has no A/B slots, so it cannot be updated without risking its working software.',
    );
  }
  const active = normalizeSlot(current);
  // A slot letter beyond slot-count is as unusable as no answer.
  if (!active || active.charCodeAt(0) - 97 >= slotCount)
    throw jobFailure(JOB_CODES.noInactiveSlot, `The device reports an unknown current slot '${current}'.`);
  let targetSlot: string;
  if (resume) {
    const mayBeOnTarget = resumePoint?.afterSwitch === true || resumePoint?.targetActive === true;
    if (active !== resume.oldSlot && !(mayBeOnTarget && active === resume.targetSlot)) {
      throw jobFailure(
        JOB_CODES.noInactiveSlot,
        `The device is on slot ${active}, not slot ${resume.oldSlot} where the interrupted job started; start the job again.`,
      );
    }
    targetSlot = resume.targetSlot;
  } else {
    targetSlot = otherSlot(active, slotCount);
  }

  const maxText = await getvar(ctx, 'max-download-size');
  const maxDownload = maxText === undefined ? 512 * MiB : parseSize('max-download-size', maxText);
  // A resumed job keeps the limit it journaled (same limit, same plan) unless the buffer has since shrunk.
  const limit = pieceLimit(maxDownload, resume?.pieceSize ?? ctx.options.pieceSize);

  let needed = 0;
  for (const img of pkg.images) {
    const kind = kindOf(img);
    if (kind === 'super-layout') {
      // Sent whole (one download) before the layout is applied in fastbootd.
      if (img.size > maxDownload) {
        throw jobFailure(
          JOB_CODES.downloadBufferTooSmall,
          `The super layout ${img.partition} is ${img.size} bytes, more than the device's download buffer (${maxDownload}).`,
        );
      }
      continue;
    }
    const part = img.slotted ? slotted(img.partition, targetSlot) : img.partition;
    const plan = await planFor(ctx, img, part, limit, maxDownload);
    // Logical partitions are sized in super (below); physical ones a resumed logical phase wrote already.
    if (kind === 'logical' || (img.slotted && ctx.logicalSteps.has('begin'))) {
      const done = ctx.donePieces.get(part);
      needed += plan.pieces.filter((p) => !done?.has(p.index)).reduce((a, p) => a + p.deviceBytes, 0);
      continue;
    }
    const sizeText = await getvar(ctx, `partition-size:${part}`);
    if (sizeText === undefined) {
      throw jobFailure(
        JOB_CODES.insufficientStorage,
        `The device has no partition ${part}; the package does not match this device.`,
      );
    }
    const partSize = parseSize(`partition-size:${part}`, sizeText);
    if (plan.deviceSize > partSize) {
      throw jobFailure(
        JOB_CODES.insufficientStorage,
        `Image ${img.partition} needs ${plan.deviceSize} bytes on the device but partition ${part} holds only ${partSize}.`,
        { partition: part, imageSize: img.size, deviceSize: plan.deviceSize, partitionSize: partSize },
      );
    }
    const done = ctx.donePieces.get(part);
    needed += plan.pieces.filter((p) => !done?.has(p.index)).reduce((a, p) => a + p.deviceBytes, 0);
  }
  if (dynamic) await preflightLogical(ctx, { target: targetSlot, old: resume?.oldSlot ?? active });
  const freeText = await readFact(ctx, caps.freeSpace);
  if (freeText !== undefined) {
    const free = parseSize('free space', freeText);
    if (needed > free) {
      throw jobFailure(
        JOB_CODES.insufficientStorage,
        `The update needs ${needed} bytes of device storage, but only ${free} are free.`,
        { needed, free },
      );
    }
  }
  const battery = await readFact(ctx, caps.battery);
  // Read in Android already (or said there that it could not be): only a fastboot-only job says it here.
  if (battery === undefined && !ctx.androidProps) ctx.report.unchecked([UNAVAILABLE.battery]);
  checkBattery(ctx, battery);
  return {
    serial,
    product,
    targetSlot,
    oldSlot: resume?.oldSlot ?? active,
    pieceSize: limit,
    maxDownload,
  };
}
