/**
 * The first half of preflight for a device found running Android: read its identity over ADB (serial,
 * product, build, slot, version, battery — as its capability record says), refuse early what would be
 * refused anyway (another unit, another product, a flat battery) so a customer's phone is not rebooted for
 * nothing, then reboot it into its bootloader the way the record says and wait (bounded) for the same serial
 * in fastboot. The staged flash then runs as for any fastboot device.
 */
import { detectCapabilities, UNAVAILABLE } from '../devices/capabilities.js';
import { androidIdentity } from '../devices/capability-values.js';
import { JOB_CODES, jobFailure } from './codes.js';
import { closeSession, waitForDevice } from './connect.js';
import { type JobContext, op } from './context.js';
import { checkBattery, readFact } from './facts.js';
import { DeviceLinkError } from './ports.js';

export async function leaveAndroid(ctx: JobContext, resumeSerial: string | undefined): Promise<void> {
  const a = ctx.android;
  if (!a) return;
  const t = ctx.options.timeouts;
  const props = await op(ctx, 'read Android properties', t.commandMs, (o) => a.props(o));
  ctx.androidProps = props;
  const caps = detectCapabilities({ mode: a.state === 'recovery' ? 'recovery' : 'android', props });
  ctx.capabilities = caps;
  const id = androidIdentity(caps.androidConfirm, props);
  const version = await readFact(ctx, caps.runningVersion);
  ctx.report.device({
    mode: caps.mode,
    serial: id.serial,
    product: id.product,
    build: id.build,
    slotBefore: id.slot,
    versionBefore: version,
    profile: caps.profile.id,
  });
  if (!id.serial) {
    throw jobFailure(
      JOB_CODES.identityMismatch,
      'The phone did not report a serial number over ADB, so it cannot be tracked safely.',
    );
  }
  if (resumeSerial !== undefined && resumeSerial !== id.serial) {
    throw jobFailure(
      JOB_CODES.identityMismatch,
      `This is device ${id.serial}, but the interrupted job was started on ${resumeSerial}. Connect the original device.`,
    );
  }
  if (id.product && !ctx.pkg.products.includes(id.product)) {
    throw jobFailure(
      JOB_CODES.wrongProduct,
      `The package is for ${ctx.pkg.products.join(', ')}, but this phone is a ${id.product}; it was not rebooted.`,
    );
  }
  const battery = await readFact(ctx, caps.battery);
  if (battery === undefined) ctx.report.unchecked([UNAVAILABLE.battery]);
  checkBattery(ctx, battery);

  const how = caps.reboot.bootloader;
  if (how?.via !== 'adb') {
    throw jobFailure(
      JOB_CODES.deviceNotFound,
      `Flashline cannot reboot this phone (${caps.profile.name}) into its bootloader; put it into fastboot mode by hand and start again.`,
    );
  }
  ctx.report.announce(`phone ${id.serial} found in Android; rebooting it into the bootloader`);
  try {
    await op(ctx, `reboot ${how.target}`, t.commandMs, (o) => a.reboot(how.target, o));
  } catch (err) {
    // The link may drop before the device confirms: that is a reboot too.
    if (!(err instanceof DeviceLinkError && err.retryable)) throw err;
  }
  await closeSession(ctx);
  try {
    await waitForDevice(ctx, id.serial, t.rebootMs, 'fastboot');
  } catch (err) {
    if (!(err instanceof DeviceLinkError && err.retryable)) throw err;
    throw jobFailure(
      JOB_CODES.deviceNotFound,
      `After rebooting into the bootloader, phone ${id.serial} did not answer in fastboot at ${ctx.endpoints.join(', ')} (${err.message}). Give its fastboot endpoint too (--device tcp:HOST:PORT) or connect it by USB, then start again.`,
    );
  }
}
