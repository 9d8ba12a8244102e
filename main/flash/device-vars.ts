/** Reading fastboot variables for the stages: bounded by the command limit, sizes parsed or refused. */
import { parseSizeVar } from '../protocol/fastboot/vars.js';
import { type JobContext, op, session } from './context.js';
import { DeviceLinkError } from './ports.js';

/** A device variable, bounded by the command timeout; undefined when the device does not report it. */
export async function getvar(ctx: JobContext, name: string): Promise<string | undefined> {
  const s = session(ctx);
  const v = await op(ctx, `getvar ${name}`, ctx.options.timeouts.commandMs, (o) => s.getvar(name, o));
  return v === undefined || v === '' ? undefined : v.trim();
}

/** Sizes come as hex (`0x1000`) or decimal; anything else is a malformed reply. */
export function parseSize(name: string, value: string): number {
  const n = parseSizeVar(value);
  if (n === undefined) {
    throw new DeviceLinkError(
      'protocol',
      `device reported ${name} as '${value.slice(0, 40)}', which is not a size`,
    );
  }
  return n;
}
