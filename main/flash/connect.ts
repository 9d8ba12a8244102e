/**
 * Opening and re-opening the device session. A device is recognised by its serial number: after a cable
 * pull, power loss or reboot, the job continues only with the same unit. One unit may answer at several
 * endpoints (fastboot over TCP, ADB over TCP, one USB id for either): the job tries each endpoint that can
 * speak the mode it needs and keeps the one where the same serial answers.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { detectCapabilities } from '../devices/capabilities.js';
import { androidIdentity } from '../devices/capability-values.js';
import { cancelled, type JobContext, op } from './context.js';
import { type AndroidSession, DeviceLinkError, type DeviceSession } from './ports.js';

/** Which kind of session a job needs: fastboot to write, Android or either after a reboot. */
export type LinkMode = 'fastboot' | 'android' | 'any';

/**
 * The modes an endpoint id can reach, the expected one first: `adb:` is ADB only, `usb:` either (one USB
 * id whatever interface the unit shows), every other kind fastboot.
 */
export function endpointModes(
  endpoint: string,
  expected: 'fastboot' | 'android' = 'fastboot',
): readonly ('fastboot' | 'android')[] {
  if (endpoint.startsWith('adb:')) return ['android'];
  if (endpoint.startsWith('usb:'))
    return expected === 'android' ? ['android', 'fastboot'] : ['fastboot', 'android'];
  return ['fastboot'];
}

export async function closeSession(ctx: JobContext): Promise<void> {
  const s = ctx.session;
  const a = ctx.android;
  ctx.session = undefined;
  ctx.android = undefined;
  for (const m of s?.messages ?? []) ctx.report.message(m);
  await s?.close().catch(() => undefined);
  await a?.close().catch(() => undefined);
}

/** A session's serial (fastboot variable or the Android property the capability layer names). */
async function serialOf(ctx: JobContext, link: DeviceSession | AndroidSession): Promise<string | undefined> {
  const t = ctx.options.timeouts;
  if ('getvar' in link)
    return (await op(ctx, 'getvar serialno', t.commandMs, (o) => link.getvar('serialno', o)))?.trim();
  const props = await op(ctx, 'read Android properties', t.commandMs, (o) => link.props(o));
  return androidIdentity(detectCapabilities({ mode: 'android', props }).androidConfirm, props).serial;
}

/**
 * One pass over the endpoints: the first that opens in a wanted mode (and, when `serial` is given, is that
 * unit) becomes the job's session. A different unit is treated as "not there yet". Throws the most telling
 * error when none answers (an unauthorized phone outranks a closed port).
 */
export async function connectAny(ctx: JobContext, serial: string | undefined, mode: LinkMode): Promise<void> {
  const t = ctx.options.timeouts;
  let failure: unknown;
  for (const endpoint of ctx.endpoints) {
    // After a reboot the record says where the unit is expected: try that first, accept either.
    for (const kind of endpointModes(endpoint, ctx.capabilities?.afterReboot)) {
      if (mode !== 'any' && kind !== mode) continue;
      const connectAndroid = ctx.connector.connectAndroid?.bind(ctx.connector);
      if (kind === 'android' && !connectAndroid) continue;
      let link: DeviceSession | AndroidSession;
      try {
        link = await op<DeviceSession | AndroidSession>(ctx, `connect ${endpoint}`, t.connectMs, (o) =>
          kind === 'android' && connectAndroid
            ? connectAndroid(endpoint, o)
            : ctx.connector.connect(endpoint, o),
        );
      } catch (err) {
        if (!(err instanceof DeviceLinkError) || err.kind === 'protocol' || err.kind === 'device-fail')
          throw err;
        if (!(failure instanceof DeviceLinkError && failure.kind === 'unauthorized')) failure = err;
        continue;
      }
      if (serial !== undefined) {
        let got: string | undefined;
        try {
          got = await serialOf(ctx, link);
        } catch (err) {
          await link.close().catch(() => undefined);
          throw err;
        }
        if (got !== serial) {
          await link.close().catch(() => undefined);
          failure ??= new DeviceLinkError(
            'disconnected',
            `a different device (${got ?? 'no serial'}) answered at ${endpoint}`,
          );
          continue;
        }
      }
      if ('getvar' in link) ctx.session = link;
      else ctx.android = link;
      return;
    }
  }
  if (failure) throw failure;
  throw new DeviceLinkError(
    'disconnected',
    `none of ${ctx.endpoints.join(', ')} can reach the device in ${mode === 'any' ? 'fastboot or Android' : mode}`,
  );
}

/** One connection attempt in fastboot; when `serial` is given, a different unit is "not there yet". */
export async function connectOnce(ctx: JobContext, serial: string | undefined): Promise<DeviceSession> {
  await connectAny(ctx, serial, 'fastboot');
  const s = ctx.session;
  if (!s) throw new DeviceLinkError('disconnected', 'no fastboot session');
  return s;
}

export async function backoff(ctx: JobContext, attempt: number): Promise<void> {
  const r = ctx.options.retry;
  const ms = Math.min(r.maxDelayMs, r.baseDelayMs * 2 ** attempt);
  try {
    await sleep(ms, undefined, { signal: ctx.signal });
  } catch {
    throw cancelled();
  }
}

/**
 * Keep trying until the same unit answers in `mode` or `deadlineMs` passes; polls with capped backoff. The
 * session found is the job's (`ctx.session` or `ctx.android`). An unauthorized phone is waited for too
 * (its owner may still tap "Allow"); if it stays so, its error (with the remedy) is what the job reports.
 */
export async function waitForDevice(
  ctx: JobContext,
  serial: string,
  deadlineMs: number,
  mode: LinkMode = 'fastboot',
): Promise<void> {
  const end = Date.now() + deadlineMs;
  let attempt = 0;
  let last: unknown;
  while (Date.now() < end) {
    try {
      await connectAny(ctx, serial, mode);
      return;
    } catch (err) {
      if (!(err instanceof DeviceLinkError) || !(err.retryable || err.kind === 'unauthorized')) throw err;
      last = err;
    }
    const delay = Math.min(
      ctx.options.retry.maxDelayMs,
      ctx.options.retry.baseDelayMs * 2 ** attempt++,
      Math.max(0, end - Date.now()),
    );
    try {
      await sleep(delay, undefined, { signal: ctx.signal });
    } catch {
      throw cancelled();
    }
  }
  if (last instanceof DeviceLinkError && last.kind === 'unauthorized') throw last;
  const msg = last instanceof Error ? last.message : 'no answer';
  throw new DeviceLinkError(
    'timeout',
    `device ${serial} did not come back${mode === 'any' ? '' : ` in ${mode}`} within ${Math.round(deadlineMs / 1000)} s (${msg})`,
  );
}
