/** Made-up job reports as the engine writes them, for the fleet tests and the fleet benchmark. */
import { randomUUID } from 'node:crypto';
import type { JobReport } from '../../main/flash/report.js';

/** A finished job's report as the engine writes it (only what the fleet reads is meaningful). */
export function fakeReport(o: {
  serial?: string;
  status?: number;
  product?: string;
  endedAt?: Date;
  sha256?: string;
  jobId?: string;
}): JobReport {
  const ended = o.endedAt ?? new Date();
  const status = o.status ?? 0;
  return {
    jobId: o.jobId ?? randomUUID(),
    deviceId: 'tcp:127.0.0.1:1',
    startedAt: new Date(ended.getTime() - 30_000).toISOString(),
    endedAt: ended.toISOString(),
    device: {
      ...(o.serial ? { serial: o.serial } : {}),
      product: o.product ?? 'flashline-virtual',
      slotBefore: 'a',
      slotAfter: 'b',
    },
    package: { id: 'demo', version: '2.0.0', sha256: o.sha256 ?? 'a'.repeat(64), rollbackIndex: 2 },
    stages: [{ stage: 'preflight', startedAt: ended.toISOString(), endedAt: ended.toISOString(), bytes: 0 }],
    bytesWritten: 4_194_304,
    rate: 10_000_000,
    status,
    statusName: status === 0 ? 'ok' : 'booted_old_slot',
    message: status === 0 ? 'ok' : 'came back on the old slot',
    remedy: '',
    deviceVerification: 'ok',
    resumes: 0,
    messages: [],
  };
}
