/**
 * The fleet's central history as the API, the UI and the CLI see it: one row per job from every station,
 * read from PostgreSQL (never from MQTT). Times cross this contract as ISO-8601 strings so the same types
 * serve IPC, WebSocket and JSON exports. Inputs are zod schemas so every caller validates at its boundary.
 */
import { z } from 'zod';
import { NAME_PATTERN } from './live/topics.js';

/** `ok`, `failed`, a decade (`4x`) or one code (`42`). */
export const statusFilterSchema = z
  .string()
  .trim()
  .regex(/^(ok|failed|[0-4]x|\d{1,3})$/i, 'status is ok, failed, a decade such as 4x, or a code such as 42');
export type StatusFilter = z.infer<typeof statusFilterSchema>;

export const jobFilterSchema = z.object({
  /** Jobs that ended at or after this time (ISO-8601). */
  since: z.string().datetime({ offset: true }).optional(),
  /** Jobs that ended before this time (ISO-8601). */
  until: z.string().datetime({ offset: true }).optional(),
  product: z.string().min(1).max(200).optional(),
  status: statusFilterSchema.optional(),
  station: z.string().min(1).max(200).optional(),
  site: z.string().min(1).max(200).optional(),
  serial: z.string().min(1).max(200).optional(),
  /**
   * The search box: serial or job id starting with this (case-insensitive), or exactly this product or
   * station. Prefix, not substring, so it stays fast over millions of jobs.
   */
  text: z.string().max(200).optional(),
});
export type JobFilter = z.infer<typeof jobFilterSchema>;

/** One job as the central store holds it. */
export interface FleetJob {
  readonly jobId: string;
  readonly station: string;
  readonly site: string;
  readonly operator?: string | undefined;
  readonly deviceId: string;
  readonly serial?: string | undefined;
  readonly product?: string | undefined;
  readonly hardwareRevision?: string | undefined;
  readonly packageId: string;
  readonly packageVersion: string;
  readonly packageSha256: string;
  readonly rollbackIndex: number;
  readonly status: number;
  readonly statusName: string;
  readonly message: string;
  /** Station clock. */
  readonly startedAt: string;
  /** Station clock. */
  readonly endedAt: string;
  /** Server clock when the row arrived (beside the station's, so clock skew is visible). */
  readonly receivedAt: string;
  readonly bytesWritten: number;
  /** Bytes per second over the download stage. */
  readonly rate: number;
  /**
   * `pending`: the job ran while the database was unreachable and its unit claim is checked at sync;
   * `duplicate`: that check found another station had already flashed this unit with this package.
   */
  readonly duplicateCheck?: 'pending' | 'duplicate' | undefined;
}

export interface JobPage {
  /** Newest first (by end time, then job id). */
  readonly jobs: FleetJob[];
  /** Pass back as `cursor` for the next (older) page; null on the last page. Opaque. */
  readonly nextCursor: string | null;
}

export const statsQuerySchema = z.object({
  since: z.string().datetime({ offset: true }),
  /** Bucket width in minutes (1 minute to 1 day). */
  bucketMinutes: z.number().int().min(1).max(1440),
});
export type StatsQuery = z.infer<typeof statsQuerySchema>;

export interface FleetStats {
  /** Units finished per station per bucket (only buckets with jobs), oldest first. */
  readonly buckets: {
    readonly station: string;
    readonly site: string;
    /** Start of the bucket (ISO-8601, aligned to the bucket width since the epoch). */
    readonly bucketStart: string;
    readonly units: number;
    readonly passed: number;
    readonly failed: number;
  }[];
  /** Jobs since `since` by status code (0 = passed), most frequent first. */
  readonly byCode: { readonly status: number; readonly statusName: string; readonly count: number }[];
}

export interface FleetStation {
  readonly station: string;
  readonly site: string;
  /** End time of its newest job (station clock), null when none. */
  readonly lastJobAt: string | null;
  /** Jobs that ended in the last 24 hours. */
  readonly jobs24h: number;
  /** When the station last shipped reports (server clock): "last seen" by the database. */
  readonly lastSyncAt: string;
}

/** Read-only queries over the central history (implemented over PostgreSQL in main/fleet/queries.ts). */
export interface FleetQueries {
  searchJobs(filter: JobFilter, cursor: string | null | undefined, limit: number): Promise<JobPage>;
  stats(query: StatsQuery): Promise<FleetStats>;
  /** The newest `n` failed jobs (status ≠ 0), newest first. */
  lastFailures(n: number): Promise<FleetJob[]>;
  stations(): Promise<FleetStation[]>;
}

/** Jobs or devices that ended with one status code. */
export interface CodeCount {
  readonly status: number;
  readonly statusName: string;
  readonly count: number;
}

/**
 * One package (id + version) across the fleet: the devices that update themselves over the air (their newest
 * attempt at this package) and the stations' jobs that flashed it.
 */
export interface RolloutPackage {
  readonly packageId: string;
  readonly packageVersion: string;
  readonly devices: {
    /** Newest attempt ended 0: the device runs this package. */
    readonly installed: number;
    /** Newest attempt still under way (checking … rebooting). */
    readonly inProgress: number;
    /** Newest attempt ended with a code ≠ 0, most frequent first. */
    readonly failed: CodeCount[];
  };
  readonly stations: {
    /** Stations that ran a job with this package. */
    readonly stations: number;
    readonly passed: number;
    readonly failed: CodeCount[];
  };
  /** Newest report or job end for this package (ISO-8601). */
  readonly lastActivityAt: string;
}

/** A device's newest OTA attempt as its agent last reported it. */
export interface OtaAttempt {
  readonly attemptId: string;
  readonly seq: number;
  readonly site: string;
  readonly serial: string;
  readonly product: string;
  readonly fromVersion?: string | undefined;
  readonly packageId: string;
  readonly packageVersion: string;
  readonly phase: string;
  readonly status?: number | undefined;
  readonly statusName?: string | undefined;
  readonly message?: string | undefined;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Device clock. */
  readonly startedAt: string;
  /** Device clock of the report. */
  readonly at: string;
}

/** The rollout's history (PostgreSQL; implemented in main/fleet/rollout-queries.ts). */
export interface RolloutQueries {
  /** Packages with OTA attempts or station jobs, newest activity first (at most `limit`). */
  rollout(limit: number): Promise<RolloutPackage[]>;
}

const nameSchema = z
  .string()
  .trim()
  .min(1)
  .max(100)
  // The live bus's rule (one topic level), so a name fleet init accepts is one the bus can carry.
  .regex(NAME_PATTERN, 'use letters, digits, dot, dash or underscore');

/**
 * `<home>/fleet.json` (written by `flashline fleet init`, mode 0600). URLs are kept without passwords:
 * the password comes from the environment (FLASHLINE_FLEET_DB_PASSWORD / FLASHLINE_FLEET_MQTT_PASSWORD)
 * or from `passwordFile` (a file of mode 0600). TLS follows the URL (`sslmode=require|verify-full`,
 * `mqtts://`). No file = no fleet: the station behaves exactly as a single station.
 */
export const fleetConfigSchema = z.object({
  version: z.literal(1),
  station: nameSchema,
  site: nameSchema,
  operator: z.string().trim().min(1).max(100).optional(),
  db: z
    .object({
      url: z.string().regex(/^postgres(ql)?:\/\//, 'the database URL starts with postgres://'),
      passwordFile: z.string().optional(),
    })
    .optional(),
  mqtt: z
    .object({
      url: z.string().regex(/^mqtts?:\/\//, 'the broker URL starts with mqtt:// or mqtts://'),
      passwordFile: z.string().optional(),
    })
    .optional(),
});
export type FleetConfig = z.infer<typeof fleetConfigSchema>;
