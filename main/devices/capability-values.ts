/**
 * Using the capability record at run time: fill a vendor command's placeholders, read a shell fact's value,
 * identify an Android device from its properties.
 */
import type { AndroidConfirm } from './capability-types.js';

/** A vendor command's arguments with its placeholders filled in. */
export function fillCommand(
  args: readonly string[],
  values: { partition?: string; slot?: string },
): string[] {
  const slotIndex = values.slot ? String(values.slot.charCodeAt(0) - 97) : '';
  return args.map((a) =>
    a
      .replaceAll('{partition}', values.partition ?? '')
      .replaceAll('{slotIndex}', slotIndex)
      .replaceAll('{slot}', values.slot ?? ''),
  );
}

/** The value a shell fact's output holds: its pattern's first group (or the trimmed output). */
export function shellFactValue(fact: { pattern?: string }, stdout: string): string | undefined {
  if (fact.pattern === undefined) return stdout.trim() || undefined;
  const m = new RegExp(fact.pattern, 'm').exec(stdout);
  return m?.[1]?.trim() || undefined;
}

/** What an Android device says about itself, read from its properties through the record. */
export function androidIdentity(
  confirm: AndroidConfirm,
  props: ReadonlyMap<string, string>,
): { serial?: string; product?: string; build?: string; slot?: string; booted: boolean } {
  const get = (n: string) => props.get(n)?.trim() || undefined;
  const slot = get(confirm.slotSuffix)?.replace(/^_/, '');
  return {
    ...(get(confirm.serial) ? { serial: get(confirm.serial) } : {}),
    ...(get(confirm.product) ? { product: get(confirm.product) } : {}),
    ...(get(confirm.build) ? { build: get(confirm.build) } : {}),
    ...(slot ? { slot } : {}),
    booted: get(confirm.bootCompleted) === '1',
  };
}
