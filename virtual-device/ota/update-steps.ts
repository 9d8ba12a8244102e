/**
 * The steps of one attempt after the agent chose a package (agent.ts runs them and reports the outcome):
 *   installFromRepository — head judged by the package code, fit and storage checked, the slot marked
 *     unbootable, verified blocks streamed into it (slot-stream.ts), every hash confirmed;
 *   switchAndBoot — slot made bootable, set active, reboot, then commit after a healthy boot of the new
 *     version, or report the fallback the boot control did (bad boot: retries spent, old slot boots).
 * Each step persists its phase before the next begins, so a power cut anywhere resumes at the right step.
 */
import { createHash } from 'node:crypto';
import { FlashlineError } from '../../main/common/errors.js';
import type { StationPrivateKey, TrustStore } from '../../main/package/index.js';
import { imageKind, type ManifestImage } from '../../main/package/manifest.js';
import type { OtaPhase, OtaReport } from '../../main/protocol/ota/report.js';
import type { VirtualDevice } from '../device.js';
import { otherSlot, type Slot } from '../state-store.js';
import { type AgentStore, type Attempt, PowerLost } from './agent-store.js';
import type { OtaHost } from './host.js';
import { fetchCheckedHead } from './package-head.js';
import { packageSegments } from './package-layout.js';
import { streamIntoSlot } from './slot-stream.js';

export interface InstallContext {
  readonly host: OtaHost;
  readonly store: AgentStore;
  readonly trust: TrustStore;
  readonly decryptionKeys: readonly StationPrivateKey[];
  readonly report: (
    a: Attempt,
    phase: OtaPhase,
    extra?: { status?: number; message?: string },
  ) => Promise<OtaReport>;
  /** True once the device lost power during this poll. */
  readonly lost: () => boolean;
}

/** An attempt that ends with a status code other than 0 (agent.ts reports it). */
export class AttemptFailure extends FlashlineError {}

/** Every image must go to a slotted physical partition of the inactive slot, and fit it. */
function checkFits(images: readonly ManifestImage[], device: VirtualDevice, slot: Slot): void {
  for (const img of images) {
    const name = `${img.partition}_${slot}`;
    const spec = device.layout.partitions.find((p) => p.name === img.partition);
    const why =
      !img.slotted || !spec?.slotted
        ? `image ${img.partition} is not for an A/B partition: an OTA update writes the inactive slot only`
        : imageKind(img) !== 'partition'
          ? `image ${img.partition} is a ${imageKind(img)} image: the OTA agent writes physical partitions only`
          : img.sparse
            ? `image ${img.partition} is sparse: the OTA agent writes raw images only`
            : img.size === 0
              ? `image ${img.partition} is empty`
              : img.size > spec.size
                ? `image ${img.partition} is ${img.size} bytes but ${name} holds ${spec.size}`
                : null;
    if (why)
      throw new AttemptFailure(
        33,
        `The package does not fit this device's A/B update: ${why}. Nothing was written to a slot.`,
      );
  }
}

/** Download the package into the attempt's slot; returns the attempt in phase `installing`. */
export async function installFromRepository(ctx: InstallContext, start: Attempt): Promise<Attempt> {
  let attempt = start;
  const device = ctx.host.device;
  const { target, slot } = attempt;
  const checked = await fetchCheckedHead(target.url, target.length, device, ctx.store, {
    trust: ctx.trust,
    product: device.product,
    hardwareRevision: device.hardwareRevision,
    bootloaderVersion: device.config.bootloaderVersion,
    deviceRollbackIndex: device.rollbackIndex,
    decryptionKeys: ctx.decryptionKeys,
    kind: 'firmware',
  });
  const manifestSha256 = createHash('sha256').update(checked.head.manifestBytes).digest('hex');
  if (manifestSha256 !== attempt.package.manifestSha256)
    throw new AttemptFailure(
      28,
      `${target.name}: the package is not the one the repository describes (manifest ${manifestSha256}). Nothing was written to a slot; tell the repository operator.`,
    );
  const images = checked.head.manifest.images;
  checkFits(images, device, slot);
  const segments = packageSegments(
    images,
    checked.head.encryption !== undefined,
    checked.headEnd,
    target.length,
  );
  if (!attempt.checkpoint) {
    const need = images.reduce(
      (n, img) => n + Math.max(0, img.size - device.contentSize(`${img.partition}_${slot}`)),
      0,
    );
    if (need > device.freeSpace)
      throw new AttemptFailure(
        13,
        `Not enough free storage for ${target.name}: slot ${slot} needs ${need} more bytes, ${device.freeSpace} are free. Nothing was downloaded; free storage on the device, then the next poll tries again.`,
      );
  }
  await ctx.report(attempt, 'downloading', {
    ...(attempt.checkpoint ? { message: `resuming at byte ${attempt.checkpoint.offset}` } : {}),
  });
  await device.exclusive(() => device.beginOtaSlotWrite(slot));
  let nextReport = attempt.bytesDone + target.length / 4;
  await streamIntoSlot({
    url: target.url,
    length: target.length,
    sha256: target.sha256,
    images,
    contentKey: checked.trusted.contentKey,
    segments,
    head: checked.bytes,
    slot,
    device,
    store: ctx.store,
    checkpoint: attempt.checkpoint,
    save: async (cp) => {
      attempt = { ...attempt, checkpoint: cp, bytesDone: cp.offset };
      await ctx.store.saveAttempt(attempt);
      if (cp.offset >= nextReport && cp.offset < target.length) {
        nextReport = cp.offset + target.length / 4;
        await ctx.report(attempt, 'downloading');
      }
    },
  });
  attempt = { ...attempt, bytesDone: target.length, phase: 'installing' };
  await ctx.report(attempt, 'verifying', {
    message: 'signature, every block, image hashes and the repository hash of the file matched',
  });
  return attempt;
}

function cut(device: VirtualDevice, step: number): void {
  if (device.cutOffset('ota-switch', step, step + 1) !== null) device.firePowerCut('ota-switch');
}

/** From a verified slot to a committed update (or a fallback); returns the final `done` report. */
export async function switchAndBoot(ctx: InstallContext, start: Attempt): Promise<OtaReport> {
  let attempt = start;
  const { host } = ctx;
  const device = host.device;
  const slot = attempt.slot;
  if (attempt.phase === 'installing') {
    cut(device, 0);
    await device.exclusive(() => device.endOtaSlotWrite(slot));
    cut(device, 1);
    attempt = { ...attempt, phase: 'switching' };
    await ctx.report(attempt, 'installing', { message: `slot ${slot} is complete and bootable` });
  }
  if (attempt.phase === 'switching') {
    attempt = { ...attempt, phase: 'rebooting' };
    if (device.bootedSlot !== slot) {
      if (device.bootControl.active !== slot) await device.exclusive(() => device.setActive(slot));
      await ctx.report(attempt, 'switching', { message: `slot ${slot} is active` });
      await ctx.report(attempt, 'rebooting');
      await host.rebootOs();
    } else await ctx.store.saveAttempt(attempt);
  }
  await host.whenUp();
  if (ctx.lost() || device.mode === 'off') throw new PowerLost();
  const booted = device.bootedSlot;
  const version = device.runningVersion;
  if (booted === slot && version === attempt.package.version) {
    await device.exclusive(() => device.markSuccessful());
    const done = await ctx.report(attempt, 'done', {
      status: 0,
      message: `running ${version} from slot ${slot}, committed`,
    });
    await ctx.store.clearAttempt();
    return done;
  }
  await ctx.store.decline(attempt.target.sha256);
  if (booted === slot) {
    // It booted, but not the version the package promised: back to the working slot.
    await device.exclusive(() => device.setActive(otherSlot(slot)));
    await host.rebootOs();
    throw new AttemptFailure(
      43,
      `slot ${slot} booted ${version}, not ${attempt.package.version}; the device was returned to slot ${otherSlot(slot)}`,
    );
  }
  throw new AttemptFailure(
    42,
    `slot ${slot} did not boot (its retries are spent); the device fell back to slot ${booted ?? '?'} running ${version}`,
  );
}
