/**
 * History screen view-model. The service filters the reports (jobs.history) and makes the exports with the
 * same filter (main/api/report-export.ts#selectReports), so the file holds exactly the rows shown.
 */

export type Outcome = 'all' | 'ok' | 'failed';

/** What the History screen says after an export. */
export function savedMessage(count: number, where: string): string {
  return `Exported ${count} job${count === 1 ? '' : 's'} to ${where}.`;
}
