/** Rollback after a failure past the switch: the device's boot flag back on its working slot. */
import { JOB_CODES } from './codes.js';
import { closeSession, connectOnce, waitForDevice } from './connect.js';
import { type JobContext, op } from './context.js';
import { DeviceLinkError } from './ports.js';

/**
 * After a failure past the switch, make sure the device's boot flag points at its working slot again.
 * Best effort and bounded: the device's own fallback (retry counter) still protects it if this fails. A
 * device that came back in Android is first rebooted into its bootloader (as its record says), unless it
 * already runs its working slot.
 */
export async function rollback(ctx: JobContext, code: number): Promise<void> {
  const plan = ctx.plan;
  if (!plan || code === JOB_CODES.ok) return;
  const t = ctx.options.timeouts;
  const viaAndroid = ctx.android !== undefined;
  const bounded: JobContext = {
    ...ctx,
    signal: AbortSignal.timeout(t.commandMs * 2 + t.connectMs + (viaAndroid ? t.rebootMs : 0)),
  };
  try {
    if (ctx.android) {
      if (code === JOB_CODES.bootedOldSlot) {
        ctx.report.message(`the device runs its working slot ${plan.oldSlot} again; nothing to roll back`);
        return;
      }
      await androidToBootloader(bounded, plan.serial);
      // `bounded` is a copy of the context: the sessions it opened and closed are the job's.
      ctx.android = undefined;
      ctx.session = bounded.session;
    }
    if (!ctx.session) ctx.session = await connectOnce(bounded, plan.serial);
    const s = ctx.session;
    await op(bounded, `set_active ${plan.oldSlot}`, t.commandMs, (o) => s.setActive(plan.oldSlot, o));
    ctx.report.message(`rolled back: slot ${plan.oldSlot} is active again`);
    if (code === JOB_CODES.wrongVersion || viaAndroid) {
      await op(bounded, 'reboot', t.commandMs, (o) => s.reboot(o)).catch(() => undefined);
    }
  } catch (err) {
    ctx.report.message(
      `rollback to slot ${plan.oldSlot} not confirmed (${err instanceof Error ? err.message : String(err)}); the device falls back on its own`,
    );
  }
}

/** Reboot a device from Android into its bootloader and wait for it there (for the rollback). */
async function androidToBootloader(ctx: JobContext, serial: string): Promise<void> {
  const a = ctx.android;
  const how = ctx.capabilities?.androidConfirm.toBootloader;
  if (!a || how?.via !== 'adb')
    throw new Error('the device cannot be rebooted into its bootloader from Android');
  await op(ctx, `reboot ${how.target}`, ctx.options.timeouts.commandMs, (o) => a.reboot(how.target, o)).catch(
    (err: unknown) => {
      if (!(err instanceof DeviceLinkError && err.retryable)) throw err;
    },
  );
  await closeSession(ctx);
  await waitForDevice(ctx, serial, ctx.options.timeouts.rebootMs, 'fastboot');
}
