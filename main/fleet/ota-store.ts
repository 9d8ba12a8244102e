/**
 * OTA reports into PostgreSQL: one row per attempt, moved forward only. Delivery is at least once and may be
 * out of order (the agent resends after a reconnect or a power cut), so the upsert is guarded by `seq`: a
 * report whose seq is not newer than the stored one changes nothing, and a report can only update an attempt
 * begun by the same device at the same site (an attempt id is not a capability to overwrite another's row).
 */
import type { OtaReport } from '../protocol/ota/report.js';
import type { Sql } from './db.js';

/** `stored`: the row now says what this report says; `stale`: an equal or newer report was there already. */
export type StoreOutcome = 'stored' | 'stale';

/**
 * Why a decoded report is still refused by the store (the codec allows it, the history cannot use it), or
 * undefined when it fits: an attempt that ended must say with which code.
 */
export function unusableReport(report: OtaReport): string | undefined {
  if ((report.phase === 'done' || report.phase === 'failed') && report.status === undefined)
    return `an attempt reported ${report.phase} without its status code`;
  if (report.phase === 'done' && report.status !== 0)
    return `an attempt reported done with status ${report.status} (a failed attempt ends 'failed')`;
  return undefined;
}

/**
 * The package id as the fleet keeps it: an agent names the repository target (`flashline-demo.flp`), a
 * station's job the file's base name (`flashline-demo`); without the extension both say the same.
 */
export function packageIdOf(report: OtaReport): string {
  return report.package.id.replace(/\.flp$/i, '');
}

export async function storeOtaReport(sql: Sql, site: string, r: OtaReport): Promise<StoreOutcome> {
  const rows = await sql`
    INSERT INTO fleet_ota_attempts (attempt_id, seq, site, serial, product, from_version, package_id,
      package_version, package_sha256, phase, status, status_name, message, bytes_done, bytes_total, slot,
      started_at, reported_at)
    VALUES (${r.attemptId}, ${r.seq}, ${site}, ${r.serial}, ${r.product}, ${r.fromVersion ?? null},
      ${packageIdOf(r)}, ${r.package.version}, ${r.package.sha256}, ${r.phase}, ${r.status ?? null},
      ${r.statusName ?? null}, ${r.message ?? null}, ${r.bytesDone}, ${r.bytesTotal}, ${r.slot ?? null},
      ${new Date(r.startedAt)}, ${new Date(r.at)})
    ON CONFLICT (attempt_id) DO UPDATE SET
      seq = EXCLUDED.seq, phase = EXCLUDED.phase, status = EXCLUDED.status,
      status_name = EXCLUDED.status_name, message = EXCLUDED.message, bytes_done = EXCLUDED.bytes_done,
      bytes_total = EXCLUDED.bytes_total, slot = EXCLUDED.slot, reported_at = EXCLUDED.reported_at,
      received_at = now()
    WHERE fleet_ota_attempts.seq < EXCLUDED.seq
      AND fleet_ota_attempts.serial = EXCLUDED.serial AND fleet_ota_attempts.site = EXCLUDED.site
    RETURNING 1`;
  return rows.length > 0 ? 'stored' : 'stale';
}
