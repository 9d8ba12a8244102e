/**
 * The OTA agent's report: what a device that updates itself over the air says about each attempt, over the
 * fleet's MQTT bus, to whoever stores it (a station with a fleet database ingests it into PostgreSQL).
 * A wire codec shared by both ends, like the other protocols here: the device side (virtual-device's OTA
 * agent) builds and publishes it, the fleet side validates it on receipt and drops what does not fit.
 *
 * Topic: `flashline-ota/<site>/<serial-encoded>/attempt`, QoS 1, never retained. A separate root from the
 * station live bus (`flashline/…`), so a device can never be mistaken for a station or its port.
 * Delivery is at least once: the agent keeps unsent reports on its own storage and sends them again after a
 * reconnect or a power cut; the receiver is idempotent on (`attemptId`, `seq`) and ignores a report whose
 * `seq` is not newer than the one it holds for that attempt (out-of-order or repeated delivery).
 */
import { z } from 'zod';

export const OTA_ROOT = 'flashline-ota';
export const OTA_SITE_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/;

/** What an attempt is doing; `done` and `failed` end it (with `status`). */
export const OTA_PHASES = [
  'checking',
  'downloading',
  'verifying',
  'installing',
  'switching',
  'rebooting',
  'done',
  'failed',
] as const;
export type OtaPhase = (typeof OTA_PHASES)[number];

const text = (max: number) => z.string().min(1).max(max);

export const otaReportSchema = z.strictObject({
  v: z.literal(1),
  /** One attempt to install one package on one device (a UUID chosen by the agent, kept across reboots). */
  attemptId: z.uuid(),
  /** Increases with every report of the attempt (survives reboots with the attempt). */
  seq: z.number().int().min(0).max(1_000_000),
  serial: text(200),
  product: text(200),
  /** The version the device ran when the attempt began. */
  fromVersion: text(80).optional(),
  package: z.strictObject({ id: text(200), version: text(80), sha256: z.string().regex(/^[0-9a-f]{64}$/) }),
  phase: z.enum(OTA_PHASES),
  /** The Flashline status code (0 OK, 1x download, 2x verify, 3x install, 4x postcheck); with done/failed. */
  status: z.number().int().min(0).max(99).optional(),
  statusName: text(80).optional(),
  /** What happened, for the person reading the fleet view. */
  message: z.string().max(2000).optional(),
  bytesDone: z.number().int().nonnegative(),
  bytesTotal: z.number().int().nonnegative(),
  /** The slot being written (the inactive one), e.g. `b`. */
  slot: text(8).optional(),
  startedAt: z.iso.datetime(),
  at: z.iso.datetime(),
});
export type OtaReport = z.infer<typeof otaReportSchema>;

function encodeLevel(value: string): string {
  return value.replace(/[%/+#]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

function decodeLevel(level: string): string {
  return level.replace(/%([0-9a-f]{2})/gi, (_m, hex: string) =>
    String.fromCharCode(Number.parseInt(hex, 16)),
  );
}

export function otaReportTopic(site: string, serial: string): string {
  return `${OTA_ROOT}/${site}/${encodeLevel(serial)}/attempt`;
}

/** What an ingester subscribes to: every device of one site, or of all sites. */
export function otaReportFilter(site?: string): string {
  return `${OTA_ROOT}/${site ?? '+'}/+/attempt`;
}

/** The topic's site and serial, or null for a topic outside the layout (ignored, never trusted). */
export function parseOtaReportTopic(topic: string): { site: string; serial: string } | null {
  const levels = topic.split('/');
  if (levels.length !== 4 || levels[0] !== OTA_ROOT || levels[3] !== 'attempt') return null;
  const [, site, serial] = levels;
  if (!site || !serial || !OTA_SITE_PATTERN.test(site)) return null;
  return { site, serial: decodeLevel(serial) };
}

/**
 * A received report, or why it was dropped. The serial in the topic must match the payload's, so a device
 * cannot report for another through a topic it was not given.
 */
export function decodeOtaReport(
  topic: string,
  payload: Uint8Array,
): { ok: true; site: string; report: OtaReport } | { ok: false; why: string } {
  const where = parseOtaReportTopic(topic);
  if (!where) return { ok: false, why: `topic ${topic} is not an OTA report topic` };
  if (payload.byteLength > 8192)
    return { ok: false, why: `report of ${payload.byteLength} bytes is too large` };
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(payload).toString('utf8'));
  } catch {
    return { ok: false, why: 'report is not JSON' };
  }
  const parsed = otaReportSchema.safeParse(json);
  if (!parsed.success)
    return { ok: false, why: `report does not fit: ${parsed.error.issues[0]?.message ?? 'invalid'}` };
  if (parsed.data.serial !== where.serial) return { ok: false, why: 'report serial differs from its topic' };
  return { ok: true, site: where.site, report: parsed.data };
}
