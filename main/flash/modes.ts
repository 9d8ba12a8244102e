/**
 * Moving a device between its bootloader and userspace fastboot (fastbootd), the way its capability record
 * says: the reboot command, then a bounded wait for the same serial in fastboot at any of its endpoints (as
 * after the reboot from Android), then the record detected again in the new mode. The mode is always read
 * from the device (its userspace variable), never assumed, so a resumed job — or one whose device rebooted on its
 * own — reaches the mode it needs again.
 */
import { userspaceVariable } from '../devices/dynamic-partition-vars.js';
import { JOB_CODES, jobFailure } from './codes.js';
import { closeSession, waitForDevice } from './connect.js';
import { type JobContext, op, session } from './context.js';
import { getvar } from './device-vars.js';
import { capabilities, detectInFastboot } from './facts.js';
import { DeviceLinkError } from './ports.js';

/** The two fastboot modes: the bootloader (`fastboot`) and userspace fastboot (`fastbootd`). */
export type FastbootMode = 'fastboot' | 'fastbootd';

const NAMES: Record<FastbootMode, string> = { fastboot: 'the bootloader', fastbootd: 'fastbootd' };

/** The mode the open session's device is in, as it says (the capability layer's userspace variable). */
export async function currentMode(ctx: JobContext): Promise<FastbootMode> {
  return (await getvar(ctx, userspaceVariable())) === 'yes' ? 'fastbootd' : 'fastboot';
}

/** Make sure the device is in `want`; reboot it there (as its record says) and wait for it when it is not. */
export async function ensureMode(ctx: JobContext, want: FastbootMode): Promise<void> {
  const plan = ctx.plan;
  const serial = plan?.serial ?? (await getvar(ctx, 'serialno'));
  if (!serial) throw jobFailure(JOB_CODES.identityMismatch, 'The device did not report a serial number.');
  const now = await currentMode(ctx);
  if (now === want) {
    if (capabilities(ctx).mode !== want) ctx.capabilities = await detectInFastboot(ctx);
    return;
  }
  const how = want === 'fastbootd' ? capabilities(ctx).reboot.fastbootd : capabilities(ctx).reboot.bootloader;
  const s = session(ctx);
  const rebootTo = s.rebootTo?.bind(s);
  if (how?.via !== 'fastboot' || !rebootTo) {
    throw jobFailure(
      JOB_CODES.wrongProduct,
      `This device (${capabilities(ctx).profile.name}) cannot be rebooted from ${NAMES[now]} into ${NAMES[want]} by Flashline, which the package needs; use a package for this device model.`,
    );
  }
  ctx.report.announce(`rebooting ${serial} from ${NAMES[now]} into ${NAMES[want]}`);
  const t = ctx.options.timeouts;
  try {
    await op(ctx, `reboot into ${NAMES[want]}`, t.commandMs, (o) =>
      rebootTo(how.target === 'fastboot' ? 'fastbootd' : 'bootloader', o),
    );
  } catch (err) {
    // The link may drop before the device confirms: that is a reboot too.
    if (!(err instanceof DeviceLinkError && err.retryable)) {
      if (err instanceof DeviceLinkError && err.kind === 'device-fail') {
        throw jobFailure(
          JOB_CODES.wrongProduct,
          `The device refused to reboot into ${NAMES[want]}: ${err.deviceMessage ?? err.message}. This package needs a device with userspace fastboot.`,
        );
      }
      throw err;
    }
  }
  await closeSession(ctx);
  try {
    await waitForDevice(ctx, serial, t.rebootMs, 'fastboot');
  } catch (err) {
    if (!(err instanceof DeviceLinkError && err.retryable)) throw err;
    throw jobFailure(
      JOB_CODES.deviceNotFound,
      `After rebooting into ${NAMES[want]}, device ${serial} did not answer in fastboot at ${ctx.endpoints.join(', ')} (${err.message}). Check the cable and run the job again; it resumes where it stopped.`,
    );
  }
  const arrived = await currentMode(ctx);
  ctx.capabilities = await detectInFastboot(ctx);
  if (arrived !== want) {
    throw jobFailure(
      JOB_CODES.wrongProduct,
      `Device ${serial} came back in ${NAMES[arrived]}, not ${NAMES[want]}: it does not support ${NAMES[want]}. Use a package for this device model.`,
    );
  }
  await ctx.journal.append({ type: 'mode', mode: want });
}
