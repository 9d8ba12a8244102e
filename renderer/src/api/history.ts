/**
 * History screen view-model. The service filters the reports on its index and serves them a page at a time
 * (jobs.history: newest first, `matched`/`total` counts, `nextCursor` for the next page), and makes the
 * exports with the same filter (main/flash/report-store.ts), so the file holds exactly the matching rows.
 */

export type Outcome = 'all' | 'ok' | 'failed';

/** What the History screen says after an export. */
export function savedMessage(count: number, where: string): string {
  return `Exported ${count} job${count === 1 ? '' : 's'} to ${where}.`;
}
