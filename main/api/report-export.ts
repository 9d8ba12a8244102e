/**
 * History export (JSON / CSV), produced by the service so the desktop save dialog, the station download
 * and `flashline report export` write the same bytes. The request carries the History screen's filter
 * rather than a list of job ids, so it stays small however long the history is.
 */
import { z } from 'zod';
import type { JobReport } from '../flash/report.js';
import { reportsToCsv } from '../flash/report-store.js';
import type { FlashServiceApi } from '../flash/service-api.js';

/** The History screen's rows (newest first) and how many jobs there are in all. */
export async function historyView(
  flash: FlashServiceApi,
  filter: HistoryFilter,
): Promise<{ reports: JobReport[]; total: number }> {
  const all = await flash.listReports();
  const reports = selectReports(all, filter).sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  return { reports, total: all.length };
}

/** The History screen's filter, applied by the service for the screen and for exports alike. */
export const historyFilter = z
  .object({
    /** Free text matched (case-insensitively) against job id, device id, serial, product, package, status. */
    text: z.string().max(200).optional(),
    outcome: z.enum(['all', 'ok', 'failed']).optional(),
  })
  .strict();
export type HistoryFilter = z.infer<typeof historyFilter>;

export const reportExportRequest = historyFilter.extend({ format: z.enum(['json', 'csv']) }).strict();
export type ReportExportRequest = z.infer<typeof reportExportRequest>;

export interface ReportExport {
  /** A suggested file name, e.g. flashline-history-20260131T080000.csv. */
  readonly fileName: string;
  readonly mediaType: 'application/json' | 'text/csv';
  readonly text: string;
  readonly count: number;
}

/** The one place the History filter is applied: the screen's list and the export both come from here. */
export function selectReports(reports: readonly JobReport[], filter: HistoryFilter): JobReport[] {
  const needle = (filter.text ?? '').trim().toLowerCase();
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

export async function exportReports(
  flash: FlashServiceApi,
  request: ReportExportRequest,
  now = new Date(),
): Promise<ReportExport> {
  const reports = selectReports(await flash.listReports(), request);
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '');
  return request.format === 'csv'
    ? {
        fileName: `flashline-history-${stamp}.csv`,
        mediaType: 'text/csv',
        text: reportsToCsv(reports),
        count: reports.length,
      }
    : {
        fileName: `flashline-history-${stamp}.json`,
        mediaType: 'application/json',
        text: `${JSON.stringify(reports, null, 2)}\n`,
        count: reports.length,
      };
}
