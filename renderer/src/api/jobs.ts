/**
 * The jobs as the Flash and Factory screens show them: `jobs.list` as a snapshot, `jobs.events` applied
 * live. Overall progress is weighted by stage (download dominates) so one bar runs 0→100 once per job and
 * never moves back while a stage repeats bytes.
 */
import type { DeviceInfo, JobEvent, JobSummary, Stage } from '../../../main/api/types.js';
import { type DeviceLabel, deviceLabel } from './device-label.js';
import { formatEta, formatRate } from './format.js';

export interface JobError {
  readonly code: number | string;
  readonly message: string;
  readonly remedy: string;
}

/** One throughput reading: seconds since the job was first seen, bytes per second. */
export interface RateSample {
  readonly t: number;
  readonly rate: number;
}

export interface JobView {
  readonly jobId: string;
  readonly deviceId: string;
  readonly serial?: string;
  readonly product?: string;
  /** When this page first saw the job (ms since epoch); null for jobs known only from a snapshot. */
  readonly startedAtMs: number | null;
  /** Throughput over time, for the row's sparkline; bounded (see addSample). */
  readonly samples: readonly RateSample[];
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
  /** How the postcheck confirmed the update (from the report), e.g. "Android booted … on slot b". */
  readonly confirmed?: string;
  /** What could not be checked on this device (said on screen, as in the report). */
  readonly unchecked?: readonly string[];
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
    startedAtMs: null,
    samples: [],
    ...(s.status !== undefined ? { status: s.status } : {}),
  };
}

function blank(jobId: string, deviceId: string, now: number): JobView {
  return {
    jobId,
    deviceId,
    startedAtMs: now,
    samples: [],
    state: 'queued',
    stage: 'queued',
    bytesDone: 0,
    bytesTotal: 0,
    rate: 0,
    eta: null,
    percent: 0,
  };
}

/** At most this many samples per job: a long job keeps its whole shape at a coarser grain. */
export const MAX_SAMPLES = 240;

/** Append a reading; when full, neighbours are merged pairwise so memory stays bounded for any job length. */
export function addSample(samples: readonly RateSample[], sample: RateSample): RateSample[] {
  const next = [...samples, sample];
  if (next.length <= MAX_SAMPLES) return next;
  const merged: RateSample[] = [];
  for (let i = 0; i + 1 < next.length; i += 2) {
    const a = next[i] as RateSample;
    const b = next[i + 1] as RateSample;
    merged.push({ t: b.t, rate: (a.rate + b.rate) / 2 });
  }
  if (next.length % 2 === 1) merged.push(next[next.length - 1] as RateSample);
  return merged;
}

export function applyJobEvent(jobs: JobMap, event: JobEvent, now: number = Date.now()): JobMap {
  return applyJobEvents(jobs, [event], now);
}

/**
 * Apply a batch of events with one copy of the map: the page gathers a frame's worth of events (64 devices
 * at 4 Hz are ~256 a second) and renders once, instead of copying the map and rendering per event.
 */
export function applyJobEvents(jobs: JobMap, events: readonly JobEvent[], now: number = Date.now()): JobMap {
  if (events.length === 0) return jobs;
  const next = new Map(jobs);
  for (const e of events) applyTo(next, e, now);
  return next;
}

/** Apply one event to `next` in place (it holds the state before the event). */
function applyTo(next: Map<string, JobView>, event: JobEvent, now: number): void {
  const prev = next.get(event.jobId) ?? blank(event.jobId, event.deviceId, now);
  if (prev.state === 'done' || prev.state === 'failed') return;
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
        samples:
          event.rate > 0
            ? addSample(prev.samples, { t: (now - (prev.startedAtMs ?? now)) / 1000, rate: event.rate })
            : prev.samples,
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
        ...(r.device.product ? { product: r.device.product } : {}),
        percent: ok ? 100 : prev.percent,
        eta: null,
        rate: 0,
        endedAt: r.endedAt,
        ...(r.postcheck ? { confirmed: r.postcheck } : {}),
        ...(r.unchecked?.length ? { unchecked: r.unchecked } : {}),
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
}

/** Finished rows the Flash screen keeps below the running ones (History lists them all). */
export const SHOWN_JOBS = 50;

/**
 * The Flash screen's rows, newest first: every job still running (a station may flash 64 devices at once),
 * then the newest finished ones up to SHOWN_JOBS rows in all — a station flashing all day has thousands.
 */
export function shownJobs(map: JobMap, limit: number = SHOWN_JOBS): { all: JobView[]; jobs: JobView[] } {
  const all = [...map.values()].reverse();
  const ended = (j: JobView) => j.state === 'done' || j.state === 'failed';
  let finished = Math.max(0, limit - all.filter((j) => !ended(j)).length);
  const jobs = all.filter((j) => !ended(j) || finished-- > 0);
  return { all, jobs };
}

/** The newest job per device (jobs are kept in start order). */
export function latestByDevice(jobs: JobMap): Map<string, JobView> {
  const out = new Map<string, JobView>();
  for (const j of jobs.values()) out.set(j.deviceId, j);
  return out;
}

/** Phases in a technician's words (the engine's stage names stay under the hood). */
export const PHASE_LABELS: Readonly<Record<Stage | 'queued', string>> = {
  queued: 'Waiting to start',
  preflight: 'Checking device',
  download: 'Downloading',
  verify: 'Verifying',
  install: 'Installing',
  switch: 'Switching slot',
  postcheck: 'Confirming boot',
};

/** The cancelled/interrupted status (docs/status-codes.md): the device stays on its working slot. */
const STOPPED = 18;

export function jobPhase(job: Pick<JobView, 'state' | 'stage' | 'status'>): string {
  if (job.state === 'done') return 'Done';
  if (job.state === 'failed') return job.status === STOPPED ? 'Stopped' : 'Failed';
  return PHASE_LABELS[job.stage];
}

/**
 * The rate and time left to show beside a running bar: each only when measured (no "— MB/s", no "ETA 0:00"
 * in a phase that moves no bytes); null hides it.
 */
export function jobSpeed(job: Pick<JobView, 'state' | 'rate' | 'eta' | 'bytesDone' | 'bytesTotal'>): {
  readonly rate: string | null;
  readonly eta: string | null;
} {
  const running = job.state === 'running';
  const measured = running && job.rate > 0;
  const left = job.bytesTotal - job.bytesDone;
  const etaKnown =
    measured &&
    job.eta !== null &&
    Number.isFinite(job.eta) &&
    job.eta >= 0.5 &&
    left > 0 &&
    job.bytesTotal > 0;
  return {
    rate: measured ? formatRate(job.rate) : null,
    eta: etaKnown ? `${formatEta(job.eta)} left` : null,
  };
}

/** The sparkline's text twin: average and peak throughput, or null before the first reading. */
export function throughputSummary(samples: readonly RateSample[]): string | null {
  if (samples.length === 0) return null;
  let sum = 0;
  let peak = 0;
  for (const s of samples) {
    sum += s.rate;
    peak = Math.max(peak, s.rate);
  }
  return `average ${formatRate(sum / samples.length)}, peak ${formatRate(peak)}`;
}

/** A job's title: the device as it is connected now, else what the job's report said about it. */
export function jobLabel(
  job: Pick<JobView, 'deviceId' | 'serial' | 'product'>,
  devices: readonly DeviceInfo[],
): DeviceLabel {
  const d = devices.find((x) => x.id === job.deviceId);
  return deviceLabel({ serial: d?.serial ?? job.serial, product: d?.product ?? job.product });
}

/** Finished jobs beyond this many (newest kept) lose their sparkline readings, so a page open for days stays small. */
export const DETAILED_FINISHED = 100;

/** Drop the throughput readings of older finished jobs; counters, results and tiles keep what they need. */
export function compactJobs(jobs: JobMap, keep: number = DETAILED_FINISHED): JobMap {
  let finished = 0;
  let changed: Map<string, JobView> | null = null;
  const newestFirst = [...jobs.values()].reverse();
  for (const j of newestFirst) {
    if (j.state !== 'done' && j.state !== 'failed') continue;
    finished++;
    if (finished > keep && j.samples.length > 0) {
      changed ??= new Map(jobs);
      changed.set(j.jobId, { ...j, samples: [] });
    }
  }
  return changed ?? jobs;
}
