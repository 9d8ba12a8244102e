/**
 * The live bus's payloads (JSON, `v: 1`), validated on receipt: a message that does not fit is dropped and
 * counted, never shown. Modes, states and stages are bounded strings, not the engine's enums, so a station
 * running a newer Flashline (a new device mode) still shows up on an older dashboard.
 */
import { z } from 'zod';

const text = (max: number) => z.string().min(1).max(max);
const when = z.iso.datetime();

export const stationStatusSchema = z.object({
  v: z.literal(1),
  state: z.enum(['online', 'offline']),
  /** `station` (serves the UI) or `line` (headless factory loop). */
  role: text(20),
  version: text(40).optional(),
  /** When this status was set; the Last Will carries the time the station connected. */
  at: when,
  /** Why offline: `stopped` (said goodbye) or `lost` (the broker sent the Last Will). */
  reason: z.enum(['stopped', 'lost']).optional(),
});
export type StationStatus = z.infer<typeof stationStatusSchema>;

export const deviceStateSchema = z.object({
  v: z.literal(1),
  deviceId: text(200),
  mode: text(40),
  state: text(40),
  serial: text(200).optional(),
  product: text(200).optional(),
  /** The job running on it, while one runs. */
  job: z.object({ jobId: text(100), stage: text(40) }).optional(),
  at: when,
});
export type DeviceStatePayload = z.infer<typeof deviceStateSchema>;

export const progressSchema = z.object({
  v: z.literal(1),
  jobId: text(100),
  deviceId: text(200),
  stage: text(40),
  bytesDone: z.number().int().nonnegative(),
  bytesTotal: z.number().int().nonnegative(),
  rate: z.number().nonnegative(),
  eta: z.number().nonnegative().nullable(),
  at: when,
});
export type ProgressPayload = z.infer<typeof progressSchema>;

export const resultSchema = z.object({
  v: z.literal(1),
  jobId: text(100),
  deviceId: text(200),
  serial: text(200).optional(),
  product: text(200).optional(),
  status: z.number().int().min(0).max(99),
  statusName: text(80),
  package: z.object({ id: text(200), version: text(80) }),
  endedAt: when,
});
export type ResultPayload = z.infer<typeof resultSchema>;

/** Parse a payload; null (and no exception) when it is not JSON or does not fit the schema. */
export function parsePayload<T>(schema: z.ZodType<T>, payload: Buffer): T | null {
  if (payload.length === 0 || payload.length > 16 * 1024) return null;
  let json: unknown;
  try {
    json = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  const parsed = schema.safeParse(json);
  return parsed.success ? parsed.data : null;
}
