/**
 * The postcheck for a device that comes back in Android (over ADB): wait (bounded by the reboot limit) until
 * it reports a completed boot, check the slot it booted and the version it runs against the plan and the
 * package, then confirm the A/B commit — on Android the device commits the slot itself after a good boot,
 * so Flashline polls (briefly) the confirmation its capability record names, or says what it verified.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { UNAVAILABLE } from '../devices/capabilities.js';
import { androidIdentity, fillCommand } from '../devices/capability-values.js';
import { checkBooted } from './boot-check.js';
import { JOB_CODES, jobFailure } from './codes.js';
import { cancelled, describeLimit, type JobContext, op } from './context.js';
import { capabilities, readFact } from './facts.js';
import { type AndroidSession, DeviceLinkError } from './ports.js';

const POLL_MS = 500;

async function pause(ctx: JobContext, ms: number): Promise<void> {
  try {
    await sleep(ms, undefined, { signal: ctx.signal });
  } catch {
    throw cancelled();
  }
}

function android(ctx: JobContext): AndroidSession {
  if (!ctx.android) throw new DeviceLinkError('disconnected', 'no open Android session with the device');
  return ctx.android;
}

export async function confirmInAndroid(ctx: JobContext, deadline: number): Promise<void> {
  const plan = ctx.plan;
  if (!plan) throw new Error('postcheck without a plan');
  const how = capabilities(ctx).androidConfirm;
  const a = android(ctx);
  const t = ctx.options.timeouts;
  // ADB answers before Android has finished booting: wait for the boot-completed flag, within the limit.
  let props = await op(ctx, 'read Android properties', t.commandMs, (o) => a.props(o));
  while (!androidIdentity(how, props).booted) {
    if (Date.now() >= deadline) {
      throw jobFailure(
        JOB_CODES.notBack,
        `The device came back in Android but did not finish booting within ${describeLimit(t.rebootMs)} of the reboot.`,
      );
    }
    await pause(ctx, Math.min(POLL_MS, Math.max(1, deadline - Date.now())));
    props = await op(ctx, 'read Android properties', t.commandMs, (o) => a.props(o));
  }
  const id = androidIdentity(how, props);
  const version =
    how.version?.via === 'prop'
      ? props.get(how.version.name)?.trim() || undefined
      : await readFact(ctx, how.version);
  ctx.report.device({ build: id.build });
  checkBooted(ctx, id.slot, version);
  const seen = `Android booted (boot completed) on slot ${plan.targetSlot}${version ? `, running ${version}` : ''}`;
  ctx.report.postcheck(`${seen}; ${await confirmCommit(ctx, a, plan.targetSlot)}`);
}

/** Poll the device's own commit confirmation (bounded); the answer is what the report says about it. */
async function confirmCommit(ctx: JobContext, a: AndroidSession, slot: string): Promise<string> {
  const confirm = capabilities(ctx).androidConfirm.commitConfirm;
  if (!confirm) {
    ctx.report.unchecked([UNAVAILABLE.commit]);
    return "the commit is the device's own and cannot be confirmed on it";
  }
  const [command = ''] = fillCommand([confirm.command], { slot });
  const end = Date.now() + confirm.waitMs;
  for (;;) {
    const r = await op(ctx, `shell ${command}`, ctx.options.timeouts.commandMs, (o) => a.shell(command, o));
    if (r.exitCode === 0) return `the device marked slot ${slot} successful (${command})`;
    // No exit status (old shell protocol) or no such command: the device offers no confirmation.
    if (r.exitCode === undefined || r.exitCode === 127 || /not found|inaccessible/i.test(r.stdout)) {
      ctx.report.unchecked([UNAVAILABLE.commit]);
      return `the device's commit cannot be confirmed on it (${command}: ${r.exitCode === undefined ? 'no exit status' : 'not available'})`;
    }
    if (Date.now() >= end) {
      ctx.report.message(
        `slot ${slot} was not yet marked successful within ${describeLimit(confirm.waitMs)}; the device commits it itself after a good boot`,
      );
      return `the device had not yet marked slot ${slot} successful within ${describeLimit(confirm.waitMs)} (it does so itself after a good boot)`;
    }
    await pause(ctx, Math.min(POLL_MS, Math.max(1, end - Date.now())));
  }
}
