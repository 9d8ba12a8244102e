/**
 * postcheck: reboot, wait (bounded) for the same unit at any of its endpoints, in whichever mode it comes
 * back (fastboot, or Android over ADB), confirm it runs the new slot and the promised version, then commit
 * — or confirm the device's own commit — the way its capability record says. Any doubt leaves the device on
 * its working slot. What could not be confirmed is said in the report.
 */

import { confirmInAndroid } from './android-postcheck.js';
import { checkBooted } from './boot-check.js';
import { JOB_CODES, jobFailure } from './codes.js';
import { closeSession, waitForDevice } from './connect.js';
import { type JobContext, op, session } from './context.js';
import { capabilities, readFact, runVendorCommand } from './facts.js';
import { DeviceLinkError } from './ports.js';
import { getvar } from './preflight.js';

async function reboot(ctx: JobContext): Promise<void> {
  const s = session(ctx);
  try {
    await op(ctx, 'reboot', ctx.options.timeouts.commandMs, (o) => s.reboot(o));
  } catch (err) {
    // The link may drop before OKAY arrives: that is a reboot too.
    if (!(err instanceof DeviceLinkError && err.retryable)) throw err;
  }
  await closeSession(ctx);
}

export async function postcheck(ctx: JobContext): Promise<void> {
  const plan = ctx.plan;
  if (!plan) throw new Error('postcheck without a plan');
  await reboot(ctx);
  const deadline = Date.now() + ctx.options.timeouts.rebootMs;
  // A link loss while committing (e.g. power cut) is retried once: the uncommitted slot boots again.
  for (let attempt = 0; ; attempt++) {
    try {
      await confirmAndCommit(ctx, deadline);
      break;
    } catch (err) {
      if (!(err instanceof DeviceLinkError && err.retryable) || attempt >= 1) throw err;
      ctx.report.message(`${err.message}; waiting for the device to confirm again`);
      await closeSession(ctx);
    }
  }
  await ctx.options.rollbackRecord?.record(plan.product, ctx.pkg.rollbackIndex);
}

async function confirmAndCommit(ctx: JobContext, deadline: number): Promise<void> {
  const plan = ctx.plan;
  if (!plan) throw new Error('postcheck without a plan');
  if (!ctx.session && !ctx.android) {
    try {
      await waitForDevice(ctx, plan.serial, Math.max(1, deadline - Date.now()), 'any');
    } catch (err) {
      if (err instanceof DeviceLinkError && err.retryable) {
        const android = capabilities(ctx).afterReboot === 'android';
        const expected = android ? 'Android (ADB)' : 'fastboot';
        // A phone that boots into Android can only be seen over ADB: say so when the job was given no way in.
        const blind = android && !ctx.endpoints.some((id) => id.startsWith('adb:') || id.startsWith('usb:'));
        const hint = blind
          ? ` This job knows the phone only as ${ctx.endpoints.join(', ')}, which cannot reach Android: name its ADB endpoint too (--device adb:HOST:PORT, or a USB connection).`
          : '';
        throw jobFailure(
          JOB_CODES.notBack,
          `After reboot (expected back in ${expected}): ${err.message}.${hint}`,
        );
      }
      // Back, but refusing this station's key: not back as far as the job can tell, with the phone's remedy.
      if (err instanceof DeviceLinkError && err.kind === 'unauthorized') {
        throw jobFailure(JOB_CODES.notBack, `After reboot: ${err.message}`, { remedy: err.remedy });
      }
      throw err;
    }
  }
  if (ctx.android) {
    await confirmInAndroid(ctx, deadline);
    return;
  }
  const how = capabilities(ctx).fastbootConfirm;
  const slot = await getvar(ctx, 'current-slot');
  const version = await readFact(ctx, how.version);
  checkBooted(ctx, slot, version);
  const seen = `back in fastboot on slot ${plan.targetSlot}${version ? `, running ${version}` : ''}`;
  if (!how.commit) {
    ctx.report.postcheck(
      `${seen}; no commit command on this device: it marks the slot successful itself once it boots`,
    );
    return;
  }
  try {
    await runVendorCommand(ctx, how.commit, { slot: plan.targetSlot });
  } catch (err) {
    if (err instanceof DeviceLinkError && err.kind === 'device-fail') {
      throw jobFailure(
        JOB_CODES.commitFailed,
        `The device refused to commit the update: ${err.deviceMessage ?? err.message}`,
      );
    }
    throw err;
  }
  ctx.report.postcheck(`${seen}; committed by Flashline (${how.commit.via} ${how.commit.args.join(' ')})`);
}
