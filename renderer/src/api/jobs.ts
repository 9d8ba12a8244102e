/**
 * The jobs as the Flash and Factory screens show them: `jobs.list` as a snapshot, `jobs.events` applied
 * live. Overall progress is weighted by stage (download dominates) so one bar runs 0→100 once per job and
 * never moves back while a stage repeats bytes.
 */
import type { JobEvent, JobSummary, Stage } from '../../../main/api/types.js';

export interface JobError {
  readonly code: number | string;
  readonly message: string;
  readonly remedy: string;
}

export interface JobView {
  readonly jobId: string;
  readonly deviceId: string;
  readonly serial?: string;
  readonly state: 'queued' | 'running' | 'done' | 'failed';
  readonly stage: Stage | 'queued';
  readonly bytesDone: number;
  readonly bytesTotal: number;
  readonly rate: number;
  readonly eta: number | null;
  /** 0..100, weighted over the stages; never decreases. */
  readonly percent: number;
  readonly status?: number;
  readonly statusName?: string;
  readonly message?: string;
  readonly error?: JobError;
  readonly endedAt?: string;
}

/** Start and end of each stage on the overall bar, in percent. */
const STAGE_SPAN: Readonly<Record<Stage, readonly [number, number]>> = {
  preflight: [0, 4],
  download: [4, 76],
  verify: [76, 86],
  install: [86, 90],
  switch: [90, 92],
  postcheck: [92, 100],
};

export function overallPercent(stage: Stage, bytesDone: number, bytesTotal: number): number {
  const [from, to] = STAGE_SPAN[stage];
  const fraction = bytesTotal > 0 ? Math.min(1, Math.max(0, bytesDone / bytesTotal)) : 0;
  return from + (to - from) * fraction;
}

export type JobMap = ReadonlyMap<string, JobView>;

export function fromSummary(s: JobSummary): JobView {
  const ended = s.state === 'done' || s.state === 'failed';
  const stage: JobView['stage'] = ended || s.state === 'queued' ? 'queued' : s.state;
  return {
    jobId: s.jobId,
    deviceId: s.deviceId,
    state: ended ? s.state : s.state === 'queued' ? 'queued' : 'running',
    stage: ended ? 'postcheck' : stage,
    bytesDone: 0,
    bytesTotal: 0,
    rate: 0,
    eta: null,
    percent: s.state === 'done' ? 100 : stage === 'queued' ? 0 : overallPercent(stage, 0, 0),
    ...(s.status !== undefined ? { status: s.status } : {}),
  };
}

function blank(jobId: string, deviceId: string): JobView {
  return {
    jobId,
    deviceId,
    state: 'queued',
    stage: 'queued',
    bytesDone: 0,
    bytesTotal: 0,
    rate: 0,
    eta: null,
    percent: 0,
  };
}

export function applyJobEvent(jobs: JobMap, event: JobEvent): Map<string, JobView> {
  const next = new Map(jobs);
  const prev = jobs.get(event.jobId) ?? blank(event.jobId, event.deviceId);
  if (prev.state === 'done' || prev.state === 'failed') return next;
  switch (event.type) {
    case 'stage':
      next.set(event.jobId, {
        ...prev,
        state: 'running',
        stage: event.stage,
        bytesDone: 0,
        bytesTotal: 0,
        rate: 0,
        eta: null,
        percent: Math.max(prev.percent, overallPercent(event.stage, 0, 0)),
      });
      break;
    case 'progress':
      next.set(event.jobId, {
        ...prev,
        state: 'running',
        stage: event.stage,
        bytesDone: event.bytesDone,
        bytesTotal: event.bytesTotal,
        rate: event.rate,
        eta: event.eta,
        percent: Math.max(prev.percent, overallPercent(event.stage, event.bytesDone, event.bytesTotal)),
      });
      break;
    case 'message':
      next.set(event.jobId, { ...prev, message: event.text });
      break;
    case 'end': {
      const r = event.report;
      const ok = event.status === 0;
      next.set(event.jobId, {
        ...prev,
        state: ok ? 'done' : 'failed',
        status: event.status,
        statusName: r.statusName,
        message: r.message,
        ...(r.device.serial ? { serial: r.device.serial } : {}),
        percent: ok ? 100 : prev.percent,
        eta: null,
        rate: 0,
        endedAt: r.endedAt,
        ...(ok
          ? {}
          : {
              error: {
                code: event.error?.code ?? event.status,
                message: event.error?.message ?? r.message,
                remedy: event.error?.remedy ?? r.remedy,
              },
            }),
      });
      break;
    }
  }
  return next;
}

/** The newest job per device (jobs are kept in start order). */
export function latestByDevice(jobs: JobMap): Map<string, JobView> {
  const out = new Map<string, JobView>();
  for (const j of jobs.values()) out.set(j.deviceId, j);
  return out;
}
