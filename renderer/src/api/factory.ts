/** Factory counters over this session's jobs. Units per hour uses the time since the first job started. */
import type { JobView } from './jobs.js';

export interface FactoryCounters {
  readonly passed: number;
  readonly failed: number;
  readonly inProgress: number;
  /** null until one unit has passed. */
  readonly unitsPerHour: number | null;
}

export function factoryCounters(
  jobs: Iterable<JobView>,
  firstStartMs: number | null,
  nowMs: number,
): FactoryCounters {
  let passed = 0;
  let failed = 0;
  let inProgress = 0;
  for (const j of jobs) {
    if (j.state === 'done') passed++;
    else if (j.state === 'failed') failed++;
    else inProgress++;
  }
  // At least a minute of elapsed time, so the first unit does not read as thousands per hour.
  const hours = firstStartMs === null ? 0 : Math.max(60_000, nowMs - firstStartMs) / 3_600_000;
  return { passed, failed, inProgress, unitsPerHour: passed > 0 && hours > 0 ? passed / hours : null };
}
