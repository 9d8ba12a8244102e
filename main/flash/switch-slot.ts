/** switch: make the written slot active — only reached after every image is written and verified. */
import { JOB_CODES, jobFailure } from './codes.js';
import { type JobContext, op, session } from './context.js';
import { DeviceLinkError } from './ports.js';

/** `refused` words the device's FAIL (32): the switch stage, or the activation before fastbootd. */
export async function switchSlot(
  ctx: JobContext,
  refused = (slot: string) => `The device refused to switch to slot ${slot}`,
): Promise<void> {
  const plan = ctx.plan;
  if (!plan) throw new Error('switch without a plan');
  const s = session(ctx);
  try {
    await op(ctx, `set_active ${plan.targetSlot}`, ctx.options.timeouts.commandMs, (o) =>
      s.setActive(plan.targetSlot, o),
    );
  } catch (err) {
    if (err instanceof DeviceLinkError && err.kind === 'device-fail') {
      throw jobFailure(
        JOB_CODES.switchFailed,
        `${refused(plan.targetSlot)}: ${err.deviceMessage ?? err.message}`,
      );
    }
    throw err;
  }
}
