/** The VID:PID tables in resources/usb-ids.json, validated on load. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { resourcesDir } from '../common/paths.js';

export const USB_MODES = ['fastboot', 'edl', 'modem'] as const;
export type UsbMode = (typeof USB_MODES)[number];

const hex4 = z.string().regex(/^[0-9a-f]{4}$/, 'a 4-digit lower-case hex id');
const UsbIdsSchema = z.object({
  devices: z.array(z.object({ vid: hex4, pid: hex4, mode: z.enum(USB_MODES), name: z.string().min(1) })),
});

export interface UsbIdEntry {
  readonly vendorId: number;
  readonly productId: number;
  readonly mode: UsbMode;
  readonly name: string;
}

/** Parse a usb-ids document; throws an Error naming the bad field. */
export function parseUsbIds(json: unknown): UsbIdEntry[] {
  const parsed = UsbIdsSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`usb-ids.json is invalid at ${issue?.path.join('.') ?? '?'}: ${issue?.message ?? ''}`);
  }
  return parsed.data.devices.map((d) => ({
    vendorId: Number.parseInt(d.vid, 16),
    productId: Number.parseInt(d.pid, 16),
    mode: d.mode,
    name: d.name,
  }));
}

let cached: UsbIdEntry[] | undefined;

/** The shipped table (resources/usb-ids.json). */
export function loadUsbIds(file = join(resourcesDir, 'usb-ids.json')): UsbIdEntry[] {
  if (file === join(resourcesDir, 'usb-ids.json') && cached) return cached;
  const table = parseUsbIds(JSON.parse(readFileSync(file, 'utf8')));
  if (file === join(resourcesDir, 'usb-ids.json')) cached = table;
  return table;
}

export function lookupUsbId(
  table: readonly UsbIdEntry[],
  vendorId: number,
  productId: number,
): UsbIdEntry | undefined {
  return table.find((e) => e.vendorId === vendorId && e.productId === productId);
}
