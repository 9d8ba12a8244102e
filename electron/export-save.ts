/**
 * The desktop history export: the page names a format and filter, main makes the file's contents from
 * the service's report history (never from page-supplied text), asks where to save it, and writes it
 * through the atomic-write helper. No Electron import, so it is tested in plain Node; main.ts passes in
 * the dialog and the sender check.
 */

import type { SaveExportResult } from '../main/api/ipc-protocol.js';
import { exportReports, reportExportRequest } from '../main/api/report-export.js';
import { writeFileAtomic } from '../main/common/atomic-write.js';
import { toErrorData } from '../main/common/errors.js';
import type { FlashServiceApi } from '../main/flash/service-api.js';

export interface SaveExportDeps {
  readonly flash: FlashServiceApi | undefined;
  /** Show the save dialog; the chosen path, or undefined when cancelled. */
  showSaveDialog(suggestedName: string, format: 'json' | 'csv'): Promise<string | undefined>;
  readonly now?: Date;
}

export async function saveReportExport(deps: SaveExportDeps, raw: unknown): Promise<SaveExportResult> {
  const parsed = reportExportRequest.safeParse(raw);
  if (!parsed.success) {
    return { saved: false, message: 'The export request is not valid; choose JSON or CSV and retry.' };
  }
  if (!deps.flash) return { saved: false, message: 'The job history is not available in this session.' };
  try {
    const made = await exportReports(deps.flash, parsed.data, deps.now);
    const path = await deps.showSaveDialog(made.fileName, parsed.data.format);
    if (!path) return { saved: false };
    await writeFileAtomic(path, made.text);
    return { saved: true, path, count: made.count };
  } catch (err) {
    const data = toErrorData(err);
    return { saved: false, message: `The export was not saved: ${data.message}` };
  }
}
