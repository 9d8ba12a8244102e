/**
 * One device job: runs the explicit state list preflight → download → verify → install → switch →
 * postcheck → done | failed(code). Each transition is journaled (fsync) before the stage runs. Link
 * losses before postcheck are retried: reconnect to the same unit with backoff, then continue the stage —
 * download continues at the next piece not yet written. Anything else fails the job with exactly one code.
 */
import { randomUUID } from 'node:crypto';
import type { FlashlineError } from '../common/errors.js';
import type { DiskIo } from '../common/station-storage.js';
import { classify, isJobFailure, JOB_CODES, jobFailure, remedyOf, stationStorageFailure } from './codes.js';
import { backoff, closeSession, connectAny, connectOnce } from './connect.js';
import {
  cancelled,
  type EngineOptions,
  FLASHLINE_STOPPING,
  type JobContext,
  STOPPED_RESUMABLE,
} from './context.js';
import { beginLogical, prepareLogical } from './dynamic.js';
import { isDynamicPackage, logicalImages, physicalSlotted, sharedImages } from './dynamic-images.js';
import type { JobEvent } from './events.js';
import { install } from './install.js';
import { recordOutcome, storedWhat } from './job-outcome.js';
import { Journal, type JournalState } from './journal.js';
import { ensureMode, type FastbootMode } from './modes.js';
import { type DeviceConnector, DeviceLinkError, type FlashImage, type FlashPackage } from './ports.js';
import { postcheck } from './postcheck.js';
import { preflight, type ResumePoint } from './preflight.js';
import { ProgressMeter } from './progress.js';
import { type JobReport, ReportBuilder } from './report.js';
import { rollback } from './rollback.js';
import type { Stage } from './stages.js';
import { switchSlot } from './switch-slot.js';
import { claimUnit } from './unit-claims.js';
import { DeviceHashMismatch, verifyImages } from './verify.js';
import { wireTotals, writeImages } from './write-images.js';

export interface RunJobInput {
  readonly deviceId: string;
  /**
   * Every endpoint id that may reach the same unit (fastboot over TCP, ADB over TCP, USB); the first is
   * `deviceId`. Default `[deviceId]`. A resumed job uses the endpoints it journaled.
   */
  readonly endpoints?: readonly string[];
  readonly pkg: FlashPackage;
  /** Path of the package file, journaled so an interrupted job can be resumed after a restart. */
  readonly packagePath?: string;
  readonly connector: DeviceConnector;
  readonly options: EngineOptions;
  readonly emit: (event: JobEvent) => void;
  readonly signal?: AbortSignal;
  readonly jobId?: string;
  /** Continue an interrupted job from its journal. */
  readonly resume?: JournalState;
  /**
   * Store the finished report durably. When given, the journal is removed once the report is stored; when
   * storing fails (the station's disk) the job ends 19 instead. Without it, the journal gets an end record.
   */
  readonly saveReport?: (report: JobReport) => Promise<void>;
  /** The file operations of the journal (tests inject failing ones). */
  readonly disk?: DiskIo;
}

type Failure = FlashlineError & { code: number };

const AFTER_SWITCH: readonly Stage[] = ['switch', 'postcheck'];

export async function runJob(input: RunJobInput): Promise<JobReport> {
  const jobId = input.resume?.start.jobId ?? input.jobId ?? randomUUID();
  const { deviceId, pkg } = input;
  const endpoints = jobEndpoints(deviceId, input.resume?.start.endpoints ?? input.endpoints);
  const signal = input.signal ?? new AbortController().signal;
  const journal = input.resume
    ? new Journal(input.resume.path, input.disk)
    : Journal.at(input.options.journalDir, jobId, input.disk);
  const report = new ReportBuilder(
    jobId,
    deviceId,
    { id: pkg.id, version: pkg.version, sha256: pkg.sha256, rollbackIndex: pkg.rollbackIndex },
    (text) => input.emit({ type: 'message', jobId, deviceId, text }),
  );
  const ctx: JobContext = {
    jobId,
    deviceId,
    endpoints,
    pkg,
    connector: input.connector,
    options: input.options,
    journal,
    meter: new ProgressMeter(jobId, deviceId, (e) => input.emit({ type: 'progress', ...e })),
    report,
    signal,
    session: undefined,
    android: undefined,
    capabilities: undefined,
    androidProps: undefined,
    plan: undefined,
    donePieces: new Map([...(input.resume?.pieces ?? new Map())].map(([k, v]) => [k, new Set(v)])),
    imagePlans: new Map(),
    journaledPlans: new Map(input.resume?.piecePlans ?? []),
    logicalSteps: new Set(input.resume?.logical ?? []),
    targetActive: input.resume?.logical.has('begin') ?? false,
    superLayout: undefined,
    resumedFrom: input.resume?.lastStage,
  };
  let stage: Stage = 'preflight';
  let switched = false;
  let status = 0;
  let failure: Failure | undefined;
  try {
    if (!input.resume) {
      // Inside the job's error handling: a station disk that cannot take the journal fails this job (19)
      // before the device is touched, and nothing else.
      await journal.begin({
        type: 'start',
        jobId,
        deviceId,
        ...(endpoints.length > 1 ? { endpoints: [...endpoints] } : {}),
        package: {
          id: pkg.id,
          version: pkg.version,
          sha256: pkg.sha256,
          ...(input.packagePath ? { path: input.packagePath } : {}),
        },
      });
    }
    if (input.resume) {
      await journal.append({ type: 'resumed' });
      report.resumed();
    }
    const enter = async (s: Stage, bytesTotal = 0, bytesDone = 0) => {
      stage = s;
      await journal.append({ type: 'stage', stage: s });
      report.stageStart(s);
      input.emit({ type: 'stage', jobId, deviceId, stage: s });
      ctx.meter.begin(s, bytesTotal, bytesDone);
    };
    const retrying = (fn: () => Promise<void>) => withRetry(ctx, fn, input.emit);

    await enter('preflight');
    await connectInitial(ctx);
    const resumePoint: ResumePoint | undefined = input.resume?.plan
      ? {
          plan: { ...input.resume.plan, maxDownload: 0 },
          afterSwitch: AFTER_SWITCH.includes(input.resume.lastStage ?? 'preflight'),
          targetActive: input.resume.logical.has('begin'),
        }
      : undefined;
    await retrying(async () => {
      ctx.plan = await preflight(ctx, resumePoint);
    });
    const plan = ctx.plan;
    if (!plan) throw new Error('preflight produced no plan');
    if (!input.resume?.plan) {
      await journal.append({
        type: 'plan',
        serial: plan.serial,
        product: plan.product,
        targetSlot: plan.targetSlot,
        oldSlot: plan.oldSlot,
        pieceSize: plan.pieceSize,
      });
    }
    await claimUnit(
      input.options.unitClaims,
      { jobId, deviceId, serial: plan.serial, packageSha256: pkg.sha256 },
      report,
    );

    const dynamic = isDynamicPackage(pkg);
    if (!resumePoint?.afterSwitch) {
      // Physical slotted images from the bootloader (as today); a package with logical images then moves
      // to fastbootd for them, and back to the bootloader for shared images or erase steps.
      if (!ctx.logicalSteps.has('begin')) {
        await writeAndVerify(ctx, physicalSlotted(pkg), enter, retrying, dynamic ? 'fastboot' : undefined);
        if (dynamic) await retrying(() => beginLogical(ctx));
      }
      if (dynamic && !ctx.logicalSteps.has('done')) {
        await writeAndVerify(ctx, logicalImages(pkg), enter, retrying, 'fastbootd');
        ctx.logicalSteps.add('done');
        await journal.append({ type: 'logical', step: 'done' });
      }
      const shared = sharedImages(pkg);
      const totals = wireTotals(ctx, shared);
      await enter('install', totals.total, totals.done);
      const needsBootloader = dynamic && (shared.length > 0 || (pkg.erase?.length ?? 0) > 0);
      await retrying(async () => {
        if (needsBootloader) await ensureMode(ctx, 'fastboot');
        await install(ctx);
      });
    }
    await enter('switch');
    switched = true;
    await retrying(() => switchSlot(ctx));
    await enter('postcheck');
    await postcheck(ctx);
  } catch (err) {
    // A fault the process policy pinned on this job (main/common/fault-policy.ts) aborts it with its cause.
    const reason: unknown = signal.aborted ? signal.reason : undefined;
    // Any other abort is a cancel (18), whatever a stream threw on it (`throwIfAborted` throws the bare reason).
    failure = isJobFailure(reason)
      ? reason
      : signal.aborted
        ? (cancelled() as Failure)
        : (stationStorageFailure(storedWhat(err, input.options.journalDir), err) ?? classify(err, stage));
    status = failure.code;
    if (switched || ctx.targetActive) await rollback(ctx, failure.code);
  } finally {
    await closeSession(ctx);
  }
  // Flashline itself stopping leaves the job interrupted (journal open, no report): the next run resumes it.
  const resumable = status === JOB_CODES.cancelled && signal.reason === FLASHLINE_STOPPING;
  const outcome = resumable
    ? { status, failure, final: report.finish(status, STOPPED_RESUMABLE) }
    : await recordOutcome(input, journal, report, status, failure);
  input.emit({
    type: 'end',
    jobId,
    deviceId,
    status: outcome.status,
    ...(outcome.failure
      ? { error: { ...outcome.failure.toData(), remedy: remedyOf(outcome.status, outcome.failure) } }
      : {}),
    report: outcome.final,
  });
  return outcome.final;
}

type Enter = (s: Stage, bytesTotal?: number, bytesDone?: number) => Promise<void>;
type Retrying = (fn: () => Promise<void>) => Promise<void>;

/**
 * Download then verify `images` (the device-hash mismatch of one image rewrites it once, then fails 28), in
 * `mode` when given: the bootloader for physical images of a package with logical ones, fastbootd (after
 * update-super and sizing the target partitions) for the logical ones. The mode is re-checked after every
 * reconnect, so a device that rebooted (power cut, cable pull) is brought back to it.
 */
async function writeAndVerify(
  ctx: JobContext,
  images: readonly FlashImage[],
  enter: Enter,
  retrying: Retrying,
  mode: FastbootMode | undefined,
): Promise<void> {
  const ready = async () => {
    if (mode === 'fastbootd') await prepareLogical(ctx);
    else if (mode) await ensureMode(ctx, mode);
  };
  const rewritten = new Set<string>();
  for (;;) {
    const totals = wireTotals(ctx, images);
    await enter('download', totals.total, totals.done);
    await retrying(async () => {
      await ready();
      await writeImages(ctx, images);
    });
    await enter('verify');
    try {
      await retrying(async () => {
        if (mode) await ensureMode(ctx, mode);
        await verifyImages(ctx, images);
      });
      return;
    } catch (err) {
      if (!(err instanceof DeviceHashMismatch)) throw err;
      if (rewritten.has(err.partition)) {
        throw jobFailure(
          JOB_CODES.imageMismatch,
          `Device-side verification failed twice: ${err.message}. The device storage may be faulty.`,
        );
      }
      // Writes acknowledged before a power loss may not have reached storage: write the image once more.
      rewritten.add(err.partition);
      ctx.report.message(`${err.message}; writing it again`);
      ctx.donePieces.delete(err.partition);
      await ctx.journal.append({ type: 'reset', partition: err.partition });
    }
  }
}

/** The job's endpoints: `deviceId` first, each id once. */
function jobEndpoints(deviceId: string, given: readonly string[] | undefined): readonly string[] {
  return [...new Set([deviceId, ...(given ?? [])])];
}

/** Find the device at any of its endpoints, in fastboot or Android (a phone usually arrives running Android). */
async function connectInitial(ctx: JobContext): Promise<void> {
  const r = ctx.options.retry;
  for (let attempt = 0; ; attempt++) {
    try {
      await connectAny(ctx, undefined, 'any');
      return;
    } catch (err) {
      if (!(err instanceof DeviceLinkError && err.retryable) || attempt >= Math.min(2, r.attempts)) {
        if (err instanceof DeviceLinkError) {
          throw jobFailure(
            JOB_CODES.deviceNotFound,
            `Cannot reach ${ctx.endpoints.join(' or ')}: ${err.message}.${err.remedy ? '' : " Check the id with 'flashline devices'."}`,
            err.remedy ? { remedy: err.remedy } : undefined,
          );
        }
        throw err;
      }
      await backoff(ctx, attempt);
    }
  }
}

/** Run a stage; on a retryable link failure reconnect to the same unit (bounded) and run it again. */
async function withRetry(
  ctx: JobContext,
  fn: () => Promise<void>,
  emit: (e: JobEvent) => void,
): Promise<void> {
  let attempt = 0;
  for (;;) {
    try {
      // Before the plan the device may still be in Android (preflight starts there); afterwards, fastboot.
      if (!ctx.session && !ctx.android) {
        if (ctx.plan) ctx.session = await connectOnce(ctx, ctx.plan.serial);
        else await connectAny(ctx, undefined, 'any');
      }
      await fn();
      return;
    } catch (err) {
      if (!(err instanceof DeviceLinkError && err.retryable) || attempt >= ctx.options.retry.attempts)
        throw err;
      const text = `${err.message}; reconnecting (attempt ${attempt + 1} of ${ctx.options.retry.attempts})`;
      ctx.report.message(text);
      emit({ type: 'message', jobId: ctx.jobId, deviceId: ctx.deviceId, text });
      await closeSession(ctx);
      await backoff(ctx, attempt++);
      ctx.report.resumed();
    }
  }
}
