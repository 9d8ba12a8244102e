/**
 * Opening and re-opening the device session. A device is recognised by its serial number: after a cable
 * pull, power loss or reboot, the job continues only with the same unit.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { cancelled, type JobContext, op } from './context.js';
import { DeviceLinkError, type DeviceSession } from './ports.js';

export async function closeSession(ctx: JobContext): Promise<void> {
  const s = ctx.session;
  ctx.session = undefined;
  if (!s) return;
  for (const m of s.messages ?? []) ctx.report.message(m);
  await s.close().catch(() => undefined);
}

/** One connection attempt; when `serial` is given, a different unit is treated as "not there yet". */
export async function connectOnce(ctx: JobContext, serial: string | undefined): Promise<DeviceSession> {
  const t = ctx.options.timeouts;
  const s = await op(ctx, `connect ${ctx.deviceId}`, t.connectMs, (o) =>
    ctx.connector.connect(ctx.deviceId, o),
  );
  if (serial === undefined) return s;
  let got: string | undefined;
  try {
    got = await op(ctx, 'getvar serialno', t.commandMs, (o) => s.getvar('serialno', o));
  } catch (err) {
    await s.close().catch(() => undefined);
    throw err;
  }
  if (got?.trim() !== serial) {
    await s.close().catch(() => undefined);
    throw new DeviceLinkError(
      'disconnected',
      `a different device (${got ?? 'no serial'}) answered at ${ctx.deviceId}`,
    );
  }
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

/** Keep trying until the same unit answers or `deadlineMs` passes; polls with capped backoff. */
export async function waitForDevice(
  ctx: JobContext,
  serial: string,
  deadlineMs: number,
): Promise<DeviceSession> {
  const end = Date.now() + deadlineMs;
  let attempt = 0;
  let last: unknown;
  while (Date.now() < end) {
    try {
      return await connectOnce(ctx, serial);
    } catch (err) {
      if (!(err instanceof DeviceLinkError) || !err.retryable) throw err;
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
  const msg = last instanceof Error ? last.message : 'no answer';
  throw new DeviceLinkError(
    'timeout',
    `device ${serial} did not come back within ${Math.round(deadlineMs / 1000)} s (${msg})`,
  );
}
