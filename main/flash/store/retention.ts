/**
 * How long the report history keeps reports, and the hook that keeps reports a sync target has not taken
 * yet (docs/embedded-store.md#retention).
 */
import { FlashlineError } from '../../common/errors.js';

export interface RetentionPolicy {
  /** Reports that ended longer ago than this may be dropped. */
  readonly maxAgeDays: number;
  /** Beyond this many reports the oldest may be dropped. */
  readonly maxReports: number;
}

export const DEFAULT_RETENTION: RetentionPolicy = { maxAgeDays: 90, maxReports: 100_000 };

/**
 * Where reports are shipped (the fleet outbox, when one exists). Retention never drops a report whose
 * sequence number is above `syncedThrough()`, so an unsynced report outlives any policy.
 */
export interface SyncTarget {
  /** The highest report sequence number the target has durably accepted (0 when none). */
  syncedThrough(): Promise<number>;
}

/** Retention from the environment (FLASHLINE_RETENTION_DAYS, FLASHLINE_RETENTION_REPORTS), validated. */
export function retentionFromEnv(env: NodeJS.ProcessEnv = process.env): Partial<RetentionPolicy> {
  const out: { maxAgeDays?: number; maxReports?: number } = {};
  for (const [name, field, unit] of [
    ['FLASHLINE_RETENTION_DAYS', 'maxAgeDays', 'days'],
    ['FLASHLINE_RETENTION_REPORTS', 'maxReports', 'reports'],
  ] as const) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    if (!/^\d{1,9}$/.test(raw) || Number(raw) < 1) {
      throw new FlashlineError(
        'bad_input',
        `${name}='${raw.slice(0, 40)}' is not a whole number of ${unit} (1 or more); fix it or unset it for the default (${DEFAULT_RETENTION[field]}).`,
      );
    }
    out[field] = Number(raw);
  }
  return out;
}
