/**
 * Runs many jobs at once with a concurrency limit. Jobs share nothing but the queue: each has its own
 * session, signal and timeouts, so one failing or hanging device never stalls another. Events from all
 * jobs go to every subscriber. Each job runs in its own fault scope (main/common/fault-policy.ts): a fault
 * of the station itself — a full disk, an unexpected rejection — ends that job with a code, never the
 * others. Finished jobs stay listed for a while (count and age bound), then live on as stored reports.
 */

import { randomUUID } from 'node:crypto';
import { FlashlineError } from '../common/errors.js';
import { EventStream } from '../common/event-stream.js';
import { runInJobScope } from '../common/fault-policy.js';
import type { DiskIo } from '../common/station-storage.js';
import { classify, describeCode, JOB_CODES, stationStorageFailure } from './codes.js';
import { type EngineOptions, FLASHLINE_STOPPING } from './context.js';
import type { JobEvent } from './events.js';
import { runJob } from './job.js';
import { Journal, type JournalState, listInterrupted } from './journal.js';
import type { DeviceConnector, FlashPackage } from './ports.js';
import { type JobReport, ReportBuilder } from './report.js';
import type { ReportStore } from './report-store.js';
import type { Stage } from './stages.js';

export interface JobSummary {
  readonly jobId: string;
  readonly deviceId: string;
  /** The unit's other endpoints, when it has several (first = deviceId). */
  readonly endpoints?: readonly string[];
  readonly packageId: string;
  /** The package file the job reads (absent for a package given in memory). */
  readonly packagePath?: string;
  readonly state: 'queued' | Stage | 'done' | 'failed';
  readonly status?: number;
}

export interface FlashManagerOptions {
  readonly engine: EngineOptions;
  readonly connector: DeviceConnector;
  readonly reports?: ReportStore;
  readonly concurrency: number;
  /** How many finished jobs `list()` keeps, and for how long (default 256 jobs, 1 hour). */
  readonly keepFinished?: { readonly count: number; readonly ageMs: number };
  /** File operations of the journals (tests inject failing ones). */
  readonly disk?: DiskIo;
}

export const DEFAULT_KEEP_FINISHED = { count: 256, ageMs: 60 * 60 * 1000 } as const;

interface Entry {
  summary: JobSummary;
  readonly controller: AbortController;
  readonly done: Promise<JobReport>;
  /** When the job ended (ms), for the bound on finished jobs kept in memory. */
  endedAt?: number;
}

export class FlashManager {
  readonly #opts: FlashManagerOptions;
  readonly #jobs = new Map<string, Entry>();
  readonly #events = new EventStream<JobEvent>();
  readonly #waiting: (() => void)[] = [];
  #running = 0;
  #concurrency: number;

  constructor(options: FlashManagerOptions) {
    this.#opts = options;
    this.#concurrency = Math.max(1, options.concurrency);
  }

  set concurrency(n: number) {
    this.#concurrency = Math.max(1, n);
    this.#pump();
  }

  /** Queue a job; returns its id at once. */
  start(input: {
    deviceId: string;
    /** Every endpoint of the unit (first = deviceId); default `[deviceId]`. */
    endpoints?: readonly string[];
    pkg: FlashPackage;
    packagePath?: string;
    resume?: JournalState;
  }): string {
    // Two jobs on one unit would interleave commands on its only session: refuse the second, whichever
    // endpoint each names.
    const mine = new Set([input.deviceId, ...(input.endpoints ?? [])]);
    const busy = [...this.#jobs.values()].find(
      (e) =>
        e.summary.state !== 'done' &&
        e.summary.state !== 'failed' &&
        [e.summary.deviceId, ...(e.summary.endpoints ?? [])].some((id) => mine.has(id)),
    );
    if (busy) {
      throw new FlashlineError(
        'busy',
        `Device ${input.deviceId} already has job ${busy.summary.jobId} running; wait for it or cancel it first.`,
      );
    }
    const jobId = input.resume?.start.jobId ?? randomUUID();
    const controller = new AbortController();
    const fail = (reason: unknown) => {
      const state = this.#jobs.get(jobId)?.summary.state ?? 'queued';
      const stage = state === 'queued' ? 'preflight' : state;
      controller.abort(
        stationStorageFailure('its records', reason) ??
          classify(reason, stage === 'done' || stage === 'failed' ? 'postcheck' : stage),
      );
    };
    const done = runInJobScope({ jobId, fail }, async () => {
      await this.#slot(controller.signal);
      try {
        const reports = this.#opts.reports;
        return await runJob({
          ...input,
          jobId,
          connector: this.#opts.connector,
          options: this.#opts.engine,
          signal: controller.signal,
          emit: (e) => this.#onEvent(e),
          ...(reports ? { saveReport: (r: JobReport) => reports.save(r) } : {}),
          ...(this.#opts.disk ? { disk: this.#opts.disk } : {}),
        });
      } catch (err) {
        // runJob turns every fault into a code; this is the last line so `done` never rejects.
        return this.#failedOutright(jobId, input, err);
      } finally {
        this.#running--;
        this.#pump();
        const entry = this.#jobs.get(jobId);
        if (entry) entry.endedAt = Date.now();
        this.#trim();
      }
    });
    const summary: JobSummary = {
      jobId,
      deviceId: input.deviceId,
      ...(input.endpoints && input.endpoints.length > 1 ? { endpoints: [...input.endpoints] } : {}),
      packageId: input.pkg.id,
      ...(input.packagePath ? { packagePath: input.packagePath } : {}),
      state: 'queued',
    };
    this.#jobs.set(jobId, { summary, controller, done });
    return jobId;
  }

  /** Cancel a queued or running job; safe at any moment (the device keeps its working slot). */
  cancel(jobId: string): boolean {
    const e = this.#jobs.get(jobId);
    if (!e) return false;
    e.controller.abort();
    return true;
  }

  cancelAll(): void {
    for (const e of this.#jobs.values()) e.controller.abort();
  }

  /** Flashline is stopping: end every job safely but leave it resumable (its journal stays open). */
  stopAll(): void {
    for (const e of this.#jobs.values()) e.controller.abort(FLASHLINE_STOPPING);
  }

  /** Running and queued jobs, and the finished ones still within the keep bound. */
  list(): JobSummary[] {
    this.#trim();
    return [...this.#jobs.values()].map((e) => e.summary);
  }

  /** The job's report once it ends; a job already dropped from the list is answered from the report store. */
  async wait(jobId: string): Promise<JobReport> {
    const e = this.#jobs.get(jobId);
    if (e) return e.done;
    const stored = await this.#opts.reports?.get(jobId);
    if (stored) return stored;
    throw new FlashlineError('not_found', `No job ${jobId} is running or stored.`);
  }

  async waitAll(): Promise<JobReport[]> {
    return Promise.all([...this.#jobs.values()].map((e) => e.done));
  }

  /** Jobs a previous Flashline process left unfinished. */
  async interrupted(): Promise<JournalState[]> {
    // Jobs of this process are running, not interrupted, even though their journals have no end yet.
    // A journal whose report is already stored belongs to a finished job (removed on the way).
    const reports = this.#opts.reports;
    return (
      await listInterrupted(
        this.#opts.engine.journalDir,
        reports
          ? (jobId) => (this.#jobs.has(jobId) ? Promise.resolve(false) : reports.has(jobId))
          : undefined,
      )
    ).filter((j) => !this.#jobs.has(j.start.jobId));
  }

  /** Close an interrupted job without resuming it: journal end + report with code 18. */
  async failInterrupted(state: JournalState): Promise<JobReport> {
    const { message } = describeCode(JOB_CODES.interrupted);
    const b = new ReportBuilder(state.start.jobId, state.start.deviceId, {
      ...state.start.package,
      rollbackIndex: -1,
    });
    if (state.plan)
      b.device({ serial: state.plan.serial, product: state.plan.product, slotBefore: state.plan.oldSlot });
    const report = b.finish(
      JOB_CODES.interrupted,
      `${message} It stopped during ${state.lastStage ?? 'preflight'}.`,
    );
    const journal = new Journal(state.path, this.#opts.disk);
    const reports = this.#opts.reports;
    try {
      if (reports) {
        await reports.save(report);
        await journal.remove();
      } else await journal.append({ type: 'end', status: JOB_CODES.interrupted, message: report.message });
    } catch (err) {
      const failure = stationStorageFailure('the job report', err);
      if (!failure) throw err;
      throw new FlashlineError('station_storage', `Job ${state.start.jobId} not closed: ${failure.message}`);
    }
    return report;
  }

  subscribe(listener: (e: JobEvent) => void): () => void {
    return this.#events.subscribe(listener);
  }

  async *events(signal?: AbortSignal): AsyncGenerator<JobEvent> {
    yield* this.#events.events(signal);
  }

  #onEvent(e: JobEvent): void {
    const entry = this.#jobs.get(e.jobId);
    if (entry) {
      if (e.type === 'stage') entry.summary = { ...entry.summary, state: e.stage };
      if (e.type === 'end')
        entry.summary = { ...entry.summary, state: e.status === 0 ? 'done' : 'failed', status: e.status };
    }
    this.#emit(e);
  }

  /** A job whose runner itself threw (never expected): fail it with a code and a report, like any job. */
  #failedOutright(jobId: string, input: { deviceId: string; pkg: FlashPackage }, err: unknown): JobReport {
    const failure = stationStorageFailure('its records', err) ?? classify(err, 'preflight');
    const info = describeCode(failure.code);
    const report = new ReportBuilder(jobId, input.deviceId, {
      id: input.pkg.id,
      version: input.pkg.version,
      sha256: input.pkg.sha256,
      rollbackIndex: input.pkg.rollbackIndex,
    }).finish(failure.code, failure.message);
    this.#onEvent({
      type: 'end',
      jobId,
      deviceId: input.deviceId,
      status: failure.code,
      error: { ...failure.toData(), remedy: info.remedy },
      report,
    });
    return report;
  }

  /** Drop finished jobs beyond the keep bound (oldest first) or older than its age. */
  #trim(): void {
    const keep = this.#opts.keepFinished ?? DEFAULT_KEEP_FINISHED;
    const now = Date.now();
    const finished = [...this.#jobs.values()].filter((e) => e.endedAt !== undefined);
    let excess = finished.length - keep.count;
    for (const e of finished) {
      if (excess-- > 0 || now - (e.endedAt as number) > keep.ageMs) this.#jobs.delete(e.summary.jobId);
    }
  }

  #emit(e: JobEvent): void {
    this.#events.emit(e);
  }

  async #slot(signal: AbortSignal): Promise<void> {
    while (this.#running >= this.#concurrency && !signal.aborted) {
      await new Promise<void>((resolve) => {
        this.#waiting.push(resolve);
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    }
    this.#running++;
  }

  #pump(): void {
    while (this.#waiting.length > 0 && this.#running < this.#concurrency) this.#waiting.shift()?.();
    // Waiters re-check the limit themselves; waking all extra ones is harmless.
  }
}
