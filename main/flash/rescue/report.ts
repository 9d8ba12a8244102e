/**
 * The rescue job's report while it runs: stages with start/end/bytes, identity, backups, the device log,
 * and the status code an error ends it with (one mapping, used by the CLI and the API alike).
 */
import { randomUUID } from 'node:crypto';
import { FlashlineError } from '../../common/errors.js';
import { statusInfo } from '../../common/status-codes.js';
import type { RescueProgress, RescueReport, RescueStage } from './contract.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Stage-local rate and ETA, measured from the stage's start. */
export class StageMeter {
  readonly #started = Date.now();
  #done = 0;
  constructor(
    readonly stage: RescueStage,
    readonly bytesTotal: number,
    readonly emit: (p: RescueProgress) => void,
  ) {}

  /** Say what is being done without bytes moving (an erase). */
  label(label: string): void {
    this.tick(this.#done, label);
  }

  tick(bytesDone: number, label?: string): void {
    this.#done = bytesDone;
    const seconds = (Date.now() - this.#started) / 1000;
    const rate = seconds > 0 ? bytesDone / seconds : 0;
    const left = this.bytesTotal - bytesDone;
    this.emit({
      stage: this.stage,
      bytesDone,
      bytesTotal: this.bytesTotal,
      rate,
      ...(rate > 0 && left >= 0 ? { etaSeconds: Math.ceil(left / rate) } : {}),
      ...(label !== undefined ? { label } : {}),
    });
  }
}

export class RescueReportBuilder {
  readonly report: Mutable<Omit<RescueReport, 'identity' | 'package'>> & {
    identity: Mutable<RescueReport['identity']>;
    package: RescueReport['package'];
  };

  /** `job`: the id and start of a job that already has them (a service's job view); new ones otherwise. */
  constructor(deviceId: string, job?: { readonly jobId: string; readonly startedAt: string }) {
    const now = new Date().toISOString();
    this.report = {
      jobId: job?.jobId ?? randomUUID(),
      deviceId,
      startedAt: job?.startedAt ?? now,
      endedAt: now,
      status: 0,
      statusName: 'ok',
      message: '',
      remedy: '',
      identity: {},
      package: { id: '', version: '', sha256: '' },
      backups: [],
      deviceLog: [],
      stages: [],
    };
  }

  begin(stage: RescueStage): void {
    this.end();
    this.report.stages.push({ stage, startedAt: new Date().toISOString(), bytes: 0 });
  }

  addBytes(bytes: number): void {
    const s = this.report.stages.at(-1);
    if (s) s.bytes = bytes;
  }

  end(): void {
    const s = this.report.stages.at(-1);
    if (s && s.endedAt === undefined) s.endedAt = new Date().toISOString();
  }

  get stage(): RescueStage | undefined {
    return this.report.stages.at(-1)?.stage;
  }

  finish(status: number, message?: string): RescueReport {
    this.end();
    const info = statusInfo(status);
    Object.assign(this.report, {
      endedAt: new Date().toISOString(),
      status,
      statusName: info.name,
      message: message ?? info.message,
      remedy: info.remedy,
    });
    return structuredClone(this.report);
  }
}

/**
 * The status code a failure ends the rescue with. Package refusals keep their 2x code; the programmer not
 * being for this device is 27; a NAK while writing is 31 (34 for patch / bootable, 30 for a backup read).
 */
export function rescueStatusOf(err: unknown, stage: RescueStage | undefined): number {
  const code = err instanceof FlashlineError ? err.code : (err as { code?: unknown } | null)?.code;
  if (typeof code === 'number' && code >= 10 && code <= 49) return code;
  switch (code) {
    case 'rescue_layout':
      return 21;
    case 'programmer_refused':
    case 'sahara_status':
      return 27;
    case 'firehose_storage_unknown':
      return 36;
    case 'firehose_nak':
      return stage === 'program' ? 31 : stage === 'patch' || stage === 'bootable' ? 34 : 30;
    case 'disconnected':
      return 11;
    case 'timeout':
      return 12;
    case 'aborted':
      return 18;
    case 'open_failed':
    case 'transport_unavailable':
      return 15;
    case 'sahara_protocol':
    case 'firehose_protocol':
      return 17;
    default:
      // A file-system error while backing up (ENOSPC, EACCES, EROFS…) is the station's disk.
      return stage === 'backup' && typeof code === 'string' && /^E[A-Z]+$/.test(code) ? 19 : 10;
  }
}
