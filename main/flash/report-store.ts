/**
 * Local report history: one JSON file per job under `<home>/reports`, written atomically, and the export
 * to CSV or JSON used by `flashline report export`.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeJsonAtomic } from '../common/atomic-write.js';
import { type JobReport, jobReportSchema } from './report.js';

export class ReportStore {
  readonly dir: string;
  constructor(dir: string) {
    this.dir = dir;
  }

  async save(report: JobReport): Promise<string> {
    const stamp = report.endedAt.replace(/[:.]/g, '-');
    const path = join(this.dir, `${stamp}_${report.jobId}.json`);
    await writeJsonAtomic(path, report);
    return path;
  }

  /** Reports ended at or after `since`, oldest first. Unreadable files are skipped, not fatal. */
  async list(options: { since?: Date } = {}): Promise<JobReport[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: JobReport[] = [];
    for (const name of names.filter((n) => n.endsWith('.json')).sort()) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(await fs.readFile(join(this.dir, name), 'utf8'));
      } catch {
        continue;
      }
      const r = jobReportSchema.safeParse(parsed);
      if (!r.success) continue;
      if (options.since && Date.parse(r.data.endedAt) < options.since.getTime()) continue;
      out.push(r.data);
    }
    return out.sort((a, b) => a.endedAt.localeCompare(b.endedAt));
  }

  /** Serials already flashed successfully with the package of this SHA-256 (auto-flash skips them). */
  async flashedSerials(packageSha256: string): Promise<Set<string>> {
    const set = new Set<string>();
    for (const r of await this.list()) {
      if (r.status === 0 && r.package.sha256 === packageSha256 && r.device.serial) set.add(r.device.serial);
    }
    return set;
  }
}

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
] as const;

function csvField(v: string | number | undefined): string {
  const s = v === undefined ? '' : String(v);
  // Quote per RFC 4180; also neutralise spreadsheet formulas in device-controlled text.
  const safe = /^[=+\-@]/.test(s) && typeof v === 'string' ? `'${s}` : s;
  return /[",\n\r]/.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function reportsToCsv(reports: readonly JobReport[]): string {
  const rows = [CSV_COLUMNS.join(',')];
  for (const r of reports) {
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
    };
    rows.push(CSV_COLUMNS.map((c) => csvField(values[c])).join(','));
  }
  return `${rows.join('\n')}\n`;
}
