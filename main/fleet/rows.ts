/** A station's job report as a row of `fleet_jobs`, and a row as the contract's FleetJob. */
import type { JobReport } from '../flash/report.js';
import type { FleetJob } from './contract.js';

export interface StationIdentity {
  readonly station: string;
  readonly site: string;
  readonly operator?: string | undefined;
}

export interface JobRow {
  job_id: string;
  station: string;
  site: string;
  operator: string | null;
  device_id: string;
  serial: string | null;
  product: string | null;
  hardware_revision: string | null;
  package_id: string;
  package_version: string;
  package_sha256: string;
  rollback_index: number;
  status: number;
  status_name: string;
  message: string;
  started_at: Date;
  ended_at: Date;
  bytes_written: number;
  rate: number;
  device: JobReport['device'];
  stages: JobReport['stages'];
  duplicate_check: 'pending' | null;
}

/** The row for one report; `pendingCheck` when its unit claim could not be made (database unreachable). */
export function reportToRow(r: JobReport, who: StationIdentity, pendingCheck: boolean): JobRow {
  return {
    job_id: r.jobId,
    station: who.station,
    site: who.site,
    operator: who.operator ?? null,
    device_id: r.deviceId,
    serial: r.device.serial ?? null,
    product: r.device.product ?? null,
    hardware_revision: r.device.hardwareRevision ?? null,
    package_id: r.package.id,
    package_version: r.package.version,
    package_sha256: r.package.sha256,
    rollback_index: r.package.rollbackIndex,
    status: r.status,
    status_name: r.statusName,
    message: r.message,
    started_at: new Date(r.startedAt),
    // A report always has an end; an unparsable one would be refused by the column, so fall back to start.
    ended_at: new Date(r.endedAt || r.startedAt),
    bytes_written: Math.round(r.bytesWritten),
    rate: Math.round(r.rate),
    device: r.device,
    stages: r.stages,
    duplicate_check: pendingCheck ? 'pending' : null,
  };
}

export const JOB_COLUMNS = [
  'job_id',
  'station',
  'site',
  'operator',
  'device_id',
  'serial',
  'product',
  'hardware_revision',
  'package_id',
  'package_version',
  'package_sha256',
  'rollback_index',
  'status',
  'status_name',
  'message',
  'started_at',
  'ended_at',
  'bytes_written',
  'rate',
  'device',
  'stages',
  'duplicate_check',
] as const;

/** A row as the queries select it (the jsonb columns left out, the server's receive time added). */
type SelectedRow = Omit<JobRow, 'device' | 'stages' | 'duplicate_check' | 'bytes_written' | 'rate'> & {
  received_at: Date;
  /** bigint columns arrive as text. */
  bytes_written: string | number;
  rate: string | number;
  duplicate_check: 'pending' | 'duplicate' | null;
  /** ended_at in whole microseconds since the epoch (the paging cursor's exact time). */
  ended_us: string;
};

export function rowToJob(r: SelectedRow): FleetJob {
  return {
    jobId: r.job_id,
    station: r.station,
    site: r.site,
    ...(r.operator !== null ? { operator: r.operator } : {}),
    deviceId: r.device_id,
    ...(r.serial !== null ? { serial: r.serial } : {}),
    ...(r.product !== null ? { product: r.product } : {}),
    ...(r.hardware_revision !== null ? { hardwareRevision: r.hardware_revision } : {}),
    packageId: r.package_id,
    packageVersion: r.package_version,
    packageSha256: r.package_sha256,
    rollbackIndex: r.rollback_index,
    status: r.status,
    statusName: r.status_name,
    message: r.message,
    startedAt: r.started_at.toISOString(),
    endedAt: r.ended_at.toISOString(),
    receivedAt: r.received_at.toISOString(),
    bytesWritten: Number(r.bytes_written),
    rate: Number(r.rate),
    ...(r.duplicate_check !== null ? { duplicateCheck: r.duplicate_check } : {}),
  };
}

export type { SelectedRow };
