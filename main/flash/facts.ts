/**
 * The engine's one way to act on a device's capability record: read a fact the way the record says
 * (fastboot variable, Android property, shell command) and run a vendor command it names. Stages call these
 * with what the record holds; no stage spells a vendor command or variable itself.
 */
import { type CapabilityProbe, detectCapabilities } from '../devices/capabilities.js';
import type { DeviceCapabilities, FactSource, VendorCommand } from '../devices/capability-types.js';
import { fillCommand, shellFactValue } from '../devices/capability-values.js';
import { userspaceVariable } from '../devices/dynamic-partition-vars.js';
import { JOB_CODES, jobFailure } from './codes.js';
import { type JobContext, op, session } from './context.js';
import { DeviceLinkError } from './ports.js';

/** The record of the job, detected in preflight. */
export function capabilities(ctx: JobContext): DeviceCapabilities {
  if (!ctx.capabilities) throw new Error('device capabilities not detected yet');
  return ctx.capabilities;
}

/** A fact's value, or undefined when the device does not give it (FAIL, unset property, no match). */
export async function readFact(ctx: JobContext, fact: FactSource | undefined): Promise<string | undefined> {
  if (!fact) return undefined;
  const t = ctx.options.timeouts.commandMs;
  if (fact.via === 'getvar') {
    const s = session(ctx);
    const v = await op(ctx, `getvar ${fact.name}`, t, (o) => s.getvar(fact.name, o));
    return v?.trim() || undefined;
  }
  const a = ctx.android;
  if (!a) throw new DeviceLinkError('disconnected', 'no open Android session with the device');
  if (fact.via === 'prop') {
    const props = await op(ctx, `getprop ${fact.name}`, t, (o) => a.props(o));
    return props.get(fact.name)?.trim() || undefined;
  }
  const r = await op(ctx, `shell ${fact.command}`, t, (o) => a.shell(fact.command, o));
  return r.exitCode !== undefined && r.exitCode !== 0 ? undefined : shellFactValue(fact, r.stdout);
}

/** Run a vendor command from the record (placeholders filled); resolves with the device's INFO lines. */
export async function runVendorCommand(
  ctx: JobContext,
  command: VendorCommand,
  values: { partition?: string; slot?: string },
  timeoutMs = ctx.options.timeouts.commandMs,
): Promise<string[]> {
  const s = session(ctx);
  const args = fillCommand(command.args, values);
  return op(ctx, `${command.via} ${args.join(' ')}`, timeoutMs, (o) => s.oem(args, o));
}

/** How many command limits a `getvar all` listing may take as a whole. */
const LISTING_LIMITS = 8;

/**
 * Probe the open fastboot session (`getvar all`, harmless) and detect its capabilities, together with what
 * the job saw of it in Android. A device that lists no variables is detected from its profile alone.
 */
export async function detectInFastboot(ctx: JobContext): Promise<DeviceCapabilities> {
  const s = session(ctx);
  let vars: ReadonlyMap<string, string> = new Map();
  const all = s.getvarAll?.bind(s);
  if (all) {
    try {
      // A listing is dozens of replies, not one: bounded as a whole at several command limits.
      vars = await op(ctx, 'getvar all', ctx.options.timeouts.commandMs * LISTING_LIMITS, (o) => all(o));
    } catch (err) {
      // A bootloader that refuses `getvar all` is probed variable by variable instead.
      if (!(err instanceof DeviceLinkError && err.kind === 'device-fail')) throw err;
    }
  }
  const probe: CapabilityProbe = {
    mode: vars.get(userspaceVariable()) === 'yes' ? 'fastbootd' : 'fastboot',
    vars,
    ...(ctx.androidProps ? { props: ctx.androidProps } : {}),
    ...(s.usbId ? { usbIds: [s.usbId] } : {}),
  };
  return detectCapabilities(probe);
}

/** Refuse below the battery level the station requires, when the device reports one. */
export function checkBattery(ctx: JobContext, battery: string | undefined): void {
  if (battery === undefined) return;
  const level = Number.parseInt(battery, 10);
  if (Number.isFinite(level) && level < ctx.options.minBatteryPercent) {
    throw jobFailure(
      JOB_CODES.batteryLow,
      `The battery is at ${level}%; at least ${ctx.options.minBatteryPercent}% is needed to update safely. Charge the device.`,
    );
  }
}
