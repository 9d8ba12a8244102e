/**
 * A/B slots as the AOSP client handles them: `slot-count`, `current-slot` (answered as `a` or `_a`),
 * `has-slot:PARTITION`; slotted partitions are flashed as `NAME_SLOT`; the "other" slot is the next one
 * after the current, wrapping around.
 */
import type { CallOptions, FastbootClient } from './client.js';
import { FastbootFailError } from './errors.js';
import { normalizeSlot, otherSlot } from './vars.js';

/** getvar that answers undefined on FAIL (the variable is not supported). */
async function optionalVar(
  client: FastbootClient,
  name: string,
  opts: CallOptions,
): Promise<string | undefined> {
  try {
    return await client.getvar(name, opts);
  } catch (err) {
    if (err instanceof FastbootFailError) return undefined;
    throw err;
  }
}

export interface SlotInfo {
  /** 0 when the device is not A/B. */
  readonly count: number;
  readonly current?: string;
}

export async function getSlotInfo(client: FastbootClient, opts: CallOptions = {}): Promise<SlotInfo> {
  const countText = await optionalVar(client, 'slot-count', opts);
  const count = countText && /^\d+$/.test(countText.trim()) ? Number(countText) : 0;
  if (count < 1) return { count: 0 };
  const current = normalizeSlot((await optionalVar(client, 'current-slot', opts)) ?? '');
  return current ? { count, current } : { count };
}

export async function hasSlot(
  client: FastbootClient,
  partition: string,
  opts: CallOptions = {},
): Promise<boolean> {
  return (await optionalVar(client, `has-slot:${partition}`, opts))?.trim() === 'yes';
}

/** Which slot to target: the current one, the other one, or a letter. */
export type SlotSelector = 'current' | 'other' | string;

/**
 * The partition name to send in `flash:`/`erase:`: `NAME_SLOT` for slotted partitions, `NAME` otherwise.
 * A name that already ends in `_a`/`_b` is used as given.
 */
export async function resolvePartition(
  client: FastbootClient,
  partition: string,
  slot: SlotSelector = 'current',
  opts: CallOptions = {},
): Promise<string> {
  if (/_[a-z]$/.test(partition)) return partition;
  if (!(await hasSlot(client, partition, opts))) return partition;
  const info = await getSlotInfo(client, opts);
  if (!info.current) throw new RangeError(`'${partition}' is slotted but the device reports no current slot`);
  const target =
    slot === 'current'
      ? info.current
      : slot === 'other'
        ? otherSlot(info.current, info.count)
        : normalizeSlot(slot);
  if (!target) throw new RangeError(`'${slot}' is not a slot (use current, other, a, b…)`);
  return `${partition}_${target}`;
}
