/**
 * History screen pages and exports (JSON / CSV), produced by the service so the desktop save dialog, the
 * station download and `flashline report export` write the same bytes. Both are served from the report
 * store's index (main/flash/report-store.ts): a page reads only its own reports, an export reads the matching
 * ones in batches. The request carries the History screen's filter rather than a list of job ids, so it stays
 * small however long the history is.
 */
import { z } from 'zod';
import type { JobReport } from '../flash/report.js';
import { exportText, type HistoryPage, reportMatches } from '../flash/report-store.js';
import type { FlashServiceApi } from '../flash/service-api.js';

/** The History screen's filter, applied by the service for the screen and for exports alike. */
export const historyFilter = z
  .object({
    /** Free text matched (case-insensitively) against job id, device id, serial, product, package, status. */
    text: z.string().max(200).optional(),
    outcome: z.enum(['all', 'ok', 'failed']).optional(),
  })
  .strict();
export type HistoryFilter = z.infer<typeof historyFilter>;

export const HISTORY_PAGE_DEFAULT = 100;
export const HISTORY_PAGE_MAX = 500;

/** One page request: the filter, where the previous page ended (`nextCursor`), and its size. */
export const historyQuery = historyFilter
  .extend({
    cursor: z.number().int().positive().optional(),
    limit: z.number().int().min(1).max(HISTORY_PAGE_MAX).optional(),
  })
  .strict();
export type HistoryQuery = z.infer<typeof historyQuery>;

/** One page of the History screen: newest first, with the count of all and of matching jobs. */
export function historyView(flash: FlashServiceApi, query: HistoryQuery): Promise<HistoryPage> {
  return flash.historyPage({ ...query, limit: query.limit ?? HISTORY_PAGE_DEFAULT });
}

export const reportExportRequest = historyFilter.extend({ format: z.enum(['json', 'csv']) }).strict();
export type ReportExportRequest = z.infer<typeof reportExportRequest>;

export interface ReportExport {
  /** A suggested file name, e.g. flashline-history-20260131T080000.csv. */
  readonly fileName: string;
  readonly mediaType: 'application/json' | 'text/csv';
  readonly text: string;
  readonly count: number;
}

/** The History filter on reports in hand; the store applies the very same predicate to its index. */
export function selectReports(reports: readonly JobReport[], filter: HistoryFilter): JobReport[] {
  return reports.filter((r) => reportMatches(r, filter));
}

export async function exportReports(
  flash: FlashServiceApi,
  request: ReportExportRequest,
  now = new Date(),
): Promise<ReportExport> {
  let count = 0;
  const counted = async function* () {
    for await (const r of flash.reportsMatching(request)) {
      count++;
      yield r;
    }
  };
  const parts: string[] = [];
  for await (const part of exportText(counted(), request.format)) parts.push(part);
  const stamp = now.toISOString().slice(0, 19).replace(/[-:]/g, '');
  return {
    fileName: `flashline-history-${stamp}.${request.format}`,
    mediaType: request.format === 'csv' ? 'text/csv' : 'application/json',
    text: parts.join(''),
    count,
  };
}
