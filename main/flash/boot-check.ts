/** The postcheck's verdict on what booted, the same whichever mode the device came back in. */
import { normalizeSlot } from '../protocol/fastboot/vars.js';
import { JOB_CODES, jobFailure } from './codes.js';
import type { JobContext } from './context.js';

/** The same slot check and version check in either mode: 42 for the old slot, 43 for another version. */
export function checkBooted(ctx: JobContext, slot: string | undefined, version: string | undefined): void {
  const plan = ctx.plan;
  if (!plan) throw new Error('postcheck without a plan');
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
}
