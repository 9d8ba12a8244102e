/**
 * What every stage of one job works with, plus the bounded-operation helper: every device call runs under
 * the job's AbortSignal combined with a timeout, so no stage can wait forever.
 */
import type { DeviceCapabilities } from '../devices/capability-types.js';
import type { SuperMetadata } from '../protocol/fastboot/super/index.js';
import { JOB_CODES, jobFailure } from './codes.js';
import type { Journal, LogicalStep } from './journal.js';
import type { ImagePlan } from './pieces.js';
import {
  type AndroidSession,
  type DeviceConnector,
  DeviceLinkError,
  type DeviceSession,
  type FlashPackage,
  type OpOptions,
  type RollbackRecord,
} from './ports.js';
import type { ProgressMeter } from './progress.js';
import type { ReportBuilder } from './report.js';
import type { UnitClaims } from './unit-claims.js';

export interface EngineTimeouts {
  /** Any single command (getvar, flash, oem, set_active). */
  readonly commandMs: number;
  /** Minimum link speed assumed when bounding a download (bytes per second). */
  readonly minDownloadBytesPerSecond: number;
  /** How long postcheck waits for the device to come back after reboot. */
  readonly rebootMs: number;
  /** How long one connection attempt may take. */
  readonly connectMs: number;
}

export interface RetryPolicy {
  /** Reconnect attempts after a link loss, per job. */
  readonly attempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
}

export interface EngineOptions {
  readonly journalDir: string;
  readonly timeouts: EngineTimeouts;
  readonly retry: RetryPolicy;
  /**
   * Preferred piece size (resume granularity); the device's max-download-size caps it. Pieces are planned
   * for min(max-download-size, pieceSize), headers included.
   */
  readonly pieceSize: number;
  /** Refuse below this battery level (percent) when the device reports one. */
  readonly minBatteryPercent: number;
  readonly rollbackRecord?: RollbackRecord;
  /** The fleet's unit claims (absent without a fleet database: the job runs as on a single station). */
  readonly unitClaims?: UnitClaims;
}

export const DEFAULT_ENGINE_OPTIONS: Omit<EngineOptions, 'journalDir'> = {
  timeouts: { commandMs: 30_000, minDownloadBytesPerSecond: 256 * 1024, rebootMs: 90_000, connectMs: 10_000 },
  retry: { attempts: 5, baseDelayMs: 500, maxDelayMs: 8_000 },
  pieceSize: 64 * 1024 * 1024,
  minBatteryPercent: 25,
};

/** The slots and sizes decided by preflight; journaled so a resumed job keeps the same target. */
export interface JobPlan {
  readonly serial: string;
  readonly product: string;
  readonly targetSlot: string;
  readonly oldSlot: string;
  /** The download limit the pieces are planned for (min of max-download-size and the preferred size). */
  readonly pieceSize: number;
  readonly maxDownload: number;
}

export interface JobContext {
  readonly jobId: string;
  readonly deviceId: string;
  /** Every endpoint that may reach this unit (first = deviceId); the serial decides which unit answered. */
  readonly endpoints: readonly string[];
  readonly pkg: FlashPackage;
  readonly connector: DeviceConnector;
  readonly options: EngineOptions;
  readonly journal: Journal;
  readonly meter: ProgressMeter;
  readonly report: ReportBuilder;
  /** The job's cancel signal. */
  readonly signal: AbortSignal;
  /** The open fastboot session, when the device is in fastboot. */
  session: DeviceSession | undefined;
  /** The open Android session, when the device is in Android (preflight before the reboot, postcheck). */
  android: AndroidSession | undefined;
  /** What the device can do and how, detected in preflight (again on resume); every stage consults it. */
  capabilities: DeviceCapabilities | undefined;
  /** The Android properties read before the reboot to the bootloader, if the job found the device there. */
  androidProps: ReadonlyMap<string, string> | undefined;
  plan: JobPlan | undefined;
  /** partition (with slot) -> indexes of pieces the device has written. */
  readonly donePieces: Map<string, Set<number>>;
  /** partition (with slot) -> its piece plan, made in preflight; the same plan drives storage checks and writes. */
  readonly imagePlans: Map<string, ImagePlan>;
  /** partition (with slot) -> piece sizes journaled for it (the plan identity a resumed job must match). */
  readonly journaledPlans: Map<string, readonly number[]>;
  /** Steps of the logical-partition phase done (journaled), for resume. */
  readonly logicalSteps: Set<LogicalStep>;
  /**
   * The target slot was set active before the switch stage (for fastbootd, whose update-super keeps the
   * partitions of the slot not booted): a failure must set the working slot back, as after the switch.
   */
  targetActive: boolean;
  /** The package's super layout, parsed and checked in preflight (packages with logical images). */
  superLayout: SuperMetadata | undefined;
  /** The stage the journal last recorded before this run (for resume), if any. */
  readonly resumedFrom: string | undefined;
}

/**
 * The abort reason when Flashline itself is stopping (Ctrl-C, SIGTERM): the job ends with 18 like a cancel,
 * but its journal stays open, so running the same job again resumes it (as after a crash).
 */
export const FLASHLINE_STOPPING = 'flashline-stopping';
export const STOPPED_RESUMABLE =
  'Flashline was stopped; the device stays on its working slot and the job resumes when you run it again.';

export function cancelled(): Error {
  return jobFailure(JOB_CODES.cancelled, 'The job was cancelled; the device stays on its working slot.');
}

/**
 * Run one device operation bounded by `timeoutMs` and the job's signal. The limit is also handed to the
 * operation (`timeoutMs`), so the device link waits exactly as long as the engine allows — not its own
 * shorter default. When the limit expires the error names the operation and the limit.
 */
export async function op<T>(
  ctx: JobContext,
  what: string,
  timeoutMs: number,
  fn: (options: OpOptions) => Promise<T>,
): Promise<T> {
  if (ctx.signal.aborted) throw cancelled();
  const limitMs = Math.max(1, Math.ceil(timeoutMs));
  // A ref'd timer (AbortSignal.timeout is unref'd): a bounded wait must also keep the process alive.
  const timeoutController = new AbortController();
  const timeout = timeoutController.signal;
  const timer = setTimeout(() => timeoutController.abort(), limitMs);
  const signal = AbortSignal.any([ctx.signal, timeout]);
  try {
    return await fn({ signal, timeoutMs: limitMs });
  } catch (err) {
    if (ctx.signal.aborted) throw cancelled();
    const linkTimeout = err instanceof DeviceLinkError && err.kind === 'timeout';
    if (timeout.aborted ? !(err instanceof DeviceLinkError && err.kind !== 'timeout') : linkTimeout) {
      throw new DeviceLinkError(
        'timeout',
        `${what}: no answer within its limit of ${describeLimit(limitMs)}`,
        undefined,
        {
          cause: err,
        },
      );
    }
    if (err instanceof DeviceLinkError) {
      const e = new DeviceLinkError(err.kind, `${what}: ${err.message}`, err.deviceMessage, {
        cause: err,
        ...(err.remedy ? { remedy: err.remedy } : {}),
      });
      throw e;
    }
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

/** "90 s", "2 min 5 s", "0.4 s": how long a limit was, for the report. */
export function describeLimit(ms: number): string {
  if (ms < 10_000) return `${Number((ms / 1000).toFixed(ms < 1000 ? 2 : 1))} s`;
  const s = Math.round(ms / 1000);
  return s < 120 ? `${s} s` : `${Math.floor(s / 60)} min ${s % 60} s`;
}

export function session(ctx: JobContext): DeviceSession {
  if (!ctx.session) throw new DeviceLinkError('disconnected', 'no open session with the device');
  return ctx.session;
}

export function downloadTimeout(ctx: JobContext, bytes: number): number {
  const t = ctx.options.timeouts;
  return t.commandMs + Math.ceil((bytes * 1000) / t.minDownloadBytesPerSecond);
}

export function slotted(partition: string, slot: string): string {
  return `${partition}_${slot}`;
}
