/** History screen: filter past job reports and export them (JSON / CSV) as files the browser saves. */
import type { JobReport } from '../../../main/api/types.js';

export type Outcome = 'all' | 'ok' | 'failed';

export interface HistoryFilter {
  readonly text: string;
  readonly outcome: Outcome;
}

export function filterReports(reports: readonly JobReport[], filter: HistoryFilter): JobReport[] {
  const needle = filter.text.trim().toLowerCase();
  return reports.filter((r) => {
    if (filter.outcome === 'ok' && r.status !== 0) return false;
    if (filter.outcome === 'failed' && r.status === 0) return false;
    if (!needle) return true;
    return [
      r.jobId,
      r.deviceId,
      r.device.serial,
      r.device.product,
      r.package.id,
      r.package.version,
      r.statusName,
    ]
      .filter((v): v is string => typeof v === 'string')
      .some((v) => v.toLowerCase().includes(needle));
  });
}

export const CSV_COLUMNS = [
  'jobId',
  'startedAt',
  'endedAt',
  'deviceId',
  'serial',
  'product',
  'package',
  'version',
  'status',
  'statusName',
  'message',
  'bytesWritten',
  'rate',
] as const;

function csvCell(value: string | number | undefined): string {
  const s = value === undefined ? '' : String(value);
  // Quote always; a leading =,+,-,@ is defused so a spreadsheet never evaluates a device-provided string.
  const safe = /^[=+\-@\t\r]/.test(s) ? `'${s}` : s;
  return `"${safe.replace(/"/g, '""')}"`;
}

export function reportsToCsv(reports: readonly JobReport[]): string {
  const rows = reports.map((r) =>
    [
      r.jobId,
      r.startedAt,
      r.endedAt,
      r.deviceId,
      r.device.serial,
      r.device.product,
      r.package.id,
      r.package.version,
      r.status,
      r.statusName,
      r.message,
      r.bytesWritten,
      r.rate,
    ]
      .map(csvCell)
      .join(','),
  );
  return `${[CSV_COLUMNS.join(','), ...rows].join('\r\n')}\r\n`;
}
