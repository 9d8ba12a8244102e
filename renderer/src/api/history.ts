/**
 * History screen: filter past job reports on screen. Exports are made by the service with the same filter
 * (main/api/report-export.ts#selectReports), so the file holds exactly the rows shown.
 */
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

/** What the History screen says after an export. */
export function savedMessage(count: number, where: string): string {
  return `Exported ${count} job${count === 1 ? '' : 's'} to ${where}.`;
}
