/**
 * postcheck: reboot, wait (bounded) for the same unit, confirm it runs the new slot and the promised
 * version, then commit (`oem mark-successful`). Any doubt leaves the device on its working slot.
 */

import { normalizeSlot } from '../protocol/fastboot/vars.js';
import { JOB_CODES, jobFailure } from './codes.js';
import { closeSession, waitForDevice } from './connect.js';
import { type JobContext, op, session } from './context.js';
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
  // A link loss while committing (e.g. power cut) is retried once: the uncommitted slot boots again.
  for (let attempt = 0; ; attempt++) {
    try {
      await confirmAndCommit(ctx);
      break;
    } catch (err) {
      if (!(err instanceof DeviceLinkError && err.retryable) || attempt >= 1) throw err;
      ctx.report.message(`${err.message}; waiting for the device to confirm again`);
      await closeSession(ctx);
    }
  }
  await ctx.options.rollbackRecord?.record(plan.product, ctx.pkg.rollbackIndex);
}

async function confirmAndCommit(ctx: JobContext): Promise<void> {
  const plan = ctx.plan;
  if (!plan) throw new Error('postcheck without a plan');
  if (!ctx.session) {
    try {
      ctx.session = await waitForDevice(ctx, plan.serial, ctx.options.timeouts.rebootMs);
    } catch (err) {
      if (err instanceof DeviceLinkError && err.retryable) {
        throw jobFailure(JOB_CODES.notBack, `After reboot: ${err.message}.`);
      }
      throw err;
    }
  }
  const slot = await getvar(ctx, 'current-slot');
  const version = await getvar(ctx, 'running-version');
  ctx.report.device({ slotAfter: slot, versionAfter: version });
  if (!slot || normalizeSlot(slot) !== plan.targetSlot) {
    throw jobFailure(
      JOB_CODES.bootedOldSlot,
      `The device came back on slot ${slot ?? '?'} instead of ${plan.targetSlot}: the new software did not boot. It stays on its working slot.`,
    );
  }
  const expected = ctx.pkg.expectedVersion ?? ctx.pkg.version;
  if (version !== undefined && version !== expected) {
    throw jobFailure(
      JOB_CODES.wrongVersion,
      `The device runs version ${version}, but the package promises ${expected}.`,
      { running: version, expected },
    );
  }
  if (version === undefined)
    ctx.report.message('device does not report its running version; slot check only');
  const s = session(ctx);
  try {
    await op(ctx, 'oem mark-successful', ctx.options.timeouts.commandMs, (o) =>
      s.oem(['mark-successful'], o),
    );
  } catch (err) {
    if (err instanceof DeviceLinkError && err.kind === 'device-fail') {
      throw jobFailure(
        JOB_CODES.commitFailed,
        `The device refused to commit the update: ${err.deviceMessage ?? err.message}`,
      );
    }
    throw err;
  }
}
