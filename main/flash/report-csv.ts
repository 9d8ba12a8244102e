/**
 * Report exports as CSV or JSON text, produced record by record so an export of a long history streams
 * (the CLI writes it to a file as it goes) and the service, the station download and `flashline report
 * export` make the same bytes.
 */
import type { JobReport } from './report.js';

export const CSV_COLUMNS = [
  'jobId',
  'deviceId',
  'serial',
  'product',
  'hardwareRevision',
  'packageId',
  'packageVersion',
  'packageSha256',
  'startedAt',
  'endedAt',
  'status',
  'statusName',
  'message',
  'bytesWritten',
  'rateMBps',
  'deviceVerification',
  'resumes',
  'mode',
  'profile',
  'postcheck',
  'unchecked',
] as const;

export function csvField(v: string | number | undefined): string {
  const s = v === undefined ? '' : String(v);
  // Quote per RFC 4180; also neutralise spreadsheet formulas in device-controlled text.
  const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** One CSV row (no line end). */
export function csvRow(r: JobReport): string {
  const values: Record<(typeof CSV_COLUMNS)[number], string | number | undefined> = {
    jobId: r.jobId,
    deviceId: r.deviceId,
    serial: r.device.serial,
    product: r.device.product,
    hardwareRevision: r.device.hardwareRevision,
    packageId: r.package.id,
    packageVersion: r.package.version,
    packageSha256: r.package.sha256,
    startedAt: r.startedAt,
    endedAt: r.endedAt,
    status: r.status,
    statusName: r.statusName,
    message: r.message,
    bytesWritten: r.bytesWritten,
    // MB/s with one decimal, as the History screen shows it (the report keeps bytes per second).
    rateMBps: (r.rate / 1e6).toFixed(1),
    deviceVerification: r.deviceVerification,
    resumes: r.resumes,
    mode: r.device.mode,
    profile: r.device.profile,
    postcheck: r.postcheck,
    // One cell: what this device could not have checked, sentences separated by '; '.
    unchecked: r.unchecked?.join('; '),
  };
  return CSV_COLUMNS.map((c) => csvField(values[c])).join(',');
}

export function reportsToCsv(reports: readonly JobReport[]): string {
  return `${[CSV_COLUMNS.join(','), ...reports.map(csvRow)].join('\n')}\n`;
}

/** The export as chunks of text: CSV (header, then a row per report) or a pretty-printed JSON array. */
export function exportText(
  reports: AsyncIterable<JobReport> | Iterable<JobReport>,
  format: 'csv' | 'json',
): AsyncGenerator<string> {
  return exportRecords(reports, format, CSV_COLUMNS, csvRow);
}

/** Records as CSV (header, then `row` per record) or as a pretty-printed JSON array, chunk by chunk. */
export async function* exportRecords<T>(
  records: AsyncIterable<T> | Iterable<T>,
  format: 'csv' | 'json',
  columns: readonly string[],
  row: (record: T) => string,
): AsyncGenerator<string> {
  if (format === 'csv') {
    yield `${columns.join(',')}\n`;
    for await (const r of records) yield `${row(r)}\n`;
    return;
  }
  // Byte for byte what JSON.stringify(records, null, 2) gives, without holding the array.
  let first = true;
  for await (const r of records) {
    yield `${first ? '[\n' : ',\n'}${JSON.stringify(r, null, 2).replace(/^/gm, '  ')}`;
    first = false;
  }
  yield first ? '[]\n' : '\n]\n';
}
