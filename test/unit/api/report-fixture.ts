/** A valid job report for history/export tests, checked against the engine's own schema. */
import { type JobReport, jobReportSchema } from '../../../main/flash/report.js';

export function sampleReport(
  over: { jobId: string; serial: string; status?: number; statusName?: string; message?: string },
  endedAt = '2026-06-01T10:00:00.000Z',
): JobReport {
  return jobReportSchema.parse({
    jobId: over.jobId,
    deviceId: `tcp:127.0.0.1:${over.jobId.length + 5000}`,
    startedAt: new Date(Date.parse(endedAt) - 60_000).toISOString(),
    endedAt,
    device: { serial: over.serial, product: 'flashline-virtual' },
    package: { id: 'demo', version: '2.0.0', sha256: 'ab'.repeat(32), rollbackIndex: 2 },
    stages: [{ stage: 'preflight', startedAt: '2026-06-01T09:59:00.000Z', bytes: 0 }],
    bytesWritten: 4096,
    rate: 1_000_000,
    status: over.status ?? 0,
    statusName: over.statusName ?? 'ok',
    message: over.message ?? 'Flashed.',
    remedy: 'None needed.',
    deviceVerification: 'ok',
    resumes: 0,
    messages: [],
  });
}
