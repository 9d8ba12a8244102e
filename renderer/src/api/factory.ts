/**
 * Factory counters over this page's jobs, and units per hour from a window of real completions: the passes
 * of the last 15 minutes, once there are at least five — never a rate extrapolated from one or two units.
 */
import type { JobView } from './jobs.js';

/** Units per hour looks back this far. */
export const RATE_WINDOW_MS = 15 * 60_000;
/** Fewer passes than this in the window give no rate (the number would be noise). */
export const MIN_UNITS_FOR_RATE = 5;

export interface UnitsPerHour {
  /** null until the window holds MIN_UNITS_FOR_RATE passes. */
  readonly value: number | null;
  /** What the number rests on, in words ("12 units in the last 15 min"). */
  readonly basis: string;
}

export interface FactoryCounters {
  readonly passed: number;
  readonly failed: number;
  readonly inProgress: number;
  readonly unitsPerHour: UnitsPerHour;
}

function duration(ms: number): string {
  const s = Math.max(1, Math.round(ms / 1000));
  if (s < 90) return `${s} s`;
  return `${Math.round(s / 60)} min`;
}

/**
 * Passes in the window ending at `now`, over the time the line was actually running in that window (from
 * the first job start when that is later than the window's start).
 */
export function unitsPerHour(
  passTimesMs: readonly number[],
  firstStartMs: number | null,
  now: number,
): UnitsPerHour {
  const from = Math.max(now - RATE_WINDOW_MS, firstStartMs ?? now - RATE_WINDOW_MS);
  const n = passTimesMs.filter((t) => t > from && t <= now).length;
  const span = Math.max(1000, now - from);
  if (n < MIN_UNITS_FOR_RATE) {
    return {
      value: null,
      basis: `shown after ${MIN_UNITS_FOR_RATE} passed units within ${RATE_WINDOW_MS / 60_000} min (${n} so far)`,
    };
  }
  const within = span >= RATE_WINDOW_MS ? `the last ${RATE_WINDOW_MS / 60_000} min` : duration(span);
  return { value: (n * 3_600_000) / span, basis: `${n} units in ${within}` };
}

/** When each passed job ended (ms since epoch), for the rate and its chart. */
export function passTimes(jobs: Iterable<JobView>): number[] {
  const out: number[] = [];
  for (const j of jobs) {
    if (j.state !== 'done' || !j.endedAt) continue;
    const t = Date.parse(j.endedAt);
    if (Number.isFinite(t)) out.push(t);
  }
  return out.sort((a, b) => a - b);
}

export function factoryCounters(
  jobs: Iterable<JobView>,
  firstStartMs: number | null,
  nowMs: number,
): FactoryCounters {
  let passed = 0;
  let failed = 0;
  let inProgress = 0;
  const list = [...jobs];
  for (const j of list) {
    if (j.state === 'done') passed++;
    else if (j.state === 'failed') failed++;
    else inProgress++;
  }
  return { passed, failed, inProgress, unitsPerHour: unitsPerHour(passTimes(list), firstStartMs, nowMs) };
}

export interface RateSeries {
  /** Seconds since epoch (uPlot's time axis). */
  readonly times: number[];
  /** Units per hour at each time; null where the window held too few passes. */
  readonly values: (number | null)[];
}

/**
 * Units per hour through the session (at most the last hour), one point per step: the same windowed rate
 * the counter shows, as it stood at each moment.
 */
export function unitsPerHourSeries(
  passTimesMs: readonly number[],
  firstStartMs: number | null,
  now: number,
  points = 60,
): RateSeries {
  const start = Math.max(now - 60 * 60_000, firstStartMs ?? now);
  const step = Math.max(1000, (now - start) / points);
  const times: number[] = [];
  const values: (number | null)[] = [];
  for (let t = start + step; t <= now + 1; t += step) {
    times.push(Math.round(t / 1000));
    values.push(unitsPerHour(passTimesMs, firstStartMs, t).value);
  }
  return { times, values };
}
