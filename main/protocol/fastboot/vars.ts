/**
 * Reading the values of fastboot variables as AOSP's client does: sizes (`max-download-size`,
 * `partition-size:*`, `rollback-index`) and slot names (`current-slot`). Pure functions with no imports, so
 * the engine and the device registry can use them without pulling in the client or a transport.
 */

/**
 * Parse a numeric variable (sizes, free space, rollback index) as AOSP does (strtoll base 0: `0x…` hex,
 * otherwise decimal); undefined when it is not a whole number. Zero is a value (a rollback index of 0, no
 * free space); a caller for whom zero makes no sense (max-download-size) refuses it itself.
 */
export function parseSizeVar(value: string): number | undefined {
  const v = value.trim();
  const n = /^0x[0-9a-f]+$/i.test(v)
    ? Number.parseInt(v.slice(2), 16)
    : /^\d+$/.test(v)
      ? Number(v)
      : Number.NaN;
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/** `a` from `a` or `_a`; undefined when the device has no usable answer. */
export function normalizeSlot(value: string): string | undefined {
  const s = value.trim().replace(/^_/, '');
  return /^[a-z]$/.test(s) ? s : undefined;
}

/** The slot after `current` among `count` slots (a→b, b→a for 2). */
export function otherSlot(current: string, count: number): string {
  const index = current.charCodeAt(0) - 97;
  if (count < 2 || index < 0 || index >= count) throw new RangeError(`no other slot for ${current}/${count}`);
  return String.fromCharCode(97 + ((index + 1) % count));
}
