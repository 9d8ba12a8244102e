/**
 * Runs many jobs at once with a concurrency limit. Jobs share nothing but the queue: each has its own
 * session, signal and timeouts, so one failing or hanging device never stalls another. Events from all
 * jobs go to every subscriber.
 */
import { randomUUID } from 'node:crypto';
import { EventEmitter, on } from 'node:events';
import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../common/atomic-write.js';
import { FlashlineError } from '../common/errors.js';
import { describeCode, JOB_CODES } from './codes.js';
import { type EngineOptions, FLASHLINE_STOPPING } from './context.js';
import type { JobEvent } from './events.js';
import { runJob } from './job.js';
import { type JournalState, listInterrupted } from './journal.js';
import type { DeviceConnector, FlashPackage } from './ports.js';
import { type JobReport, ReportBuilder } from './report.js';
import type { ReportStore } from './report-store.js';
import type { Stage } from './stages.js';

export interface JobSummary {
  readonly jobId: string;
  readonly deviceId: string;
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
}

interface Entry {
  summary: JobSummary;
  readonly controller: AbortController;
  readonly done: Promise<JobReport>;
}

export class FlashManager {
  readonly #opts: FlashManagerOptions;
  readonly #jobs = new Map<string, Entry>();
  readonly #events = new EventEmitter();
  readonly #waiting: (() => void)[] = [];
  #running = 0;
  #concurrency: number;

  constructor(options: FlashManagerOptions) {
    this.#opts = options;
    this.#concurrency = Math.max(1, options.concurrency);
    this.#events.setMaxListeners(0);
  }

  set concurrency(n: number) {
    this.#concurrency = Math.max(1, n);
    this.#pump();
  }

  /** Queue a job; returns its id at once. */
  start(input: { deviceId: string; pkg: FlashPackage; packagePath?: string; resume?: JournalState }): string {
    // Two jobs on one device would interleave commands on its only session: refuse the second.
    const busy = [...this.#jobs.values()].find(
      (e) =>
        e.summary.deviceId === input.deviceId && e.summary.state !== 'done' && e.summary.state !== 'failed',
    );
    if (busy) {
      throw new FlashlineError(
        'busy',
        `Device ${input.deviceId} already has job ${busy.summary.jobId} running; wait for it or cancel it first.`,
      );
    }
    const jobId = input.resume?.start.jobId ?? randomUUID();
    const controller = new AbortController();
    const summary: JobSummary = {
      jobId,
      deviceId: input.deviceId,
      packageId: input.pkg.id,
      ...(input.packagePath ? { packagePath: input.packagePath } : {}),
      state: 'queued',
    };
    const done = (async () => {
      await this.#slot(controller.signal);
      try {
        const report = await runJob({
          ...input,
          jobId,
          connector: this.#opts.connector,
          options: this.#opts.engine,
          signal: controller.signal,
          emit: (e) => this.#onEvent(e),
        });
        await this.#opts.reports?.save(report).catch((err: unknown) =>
          this.#emit({
            type: 'message',
            jobId,
            deviceId: input.deviceId,
            text: `report not saved: ${String(err)}`,
          }),
        );
        return report;
      } finally {
        this.#running--;
        this.#pump();
      }
    })();
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

  list(): JobSummary[] {
    return [...this.#jobs.values()].map((e) => e.summary);
  }

  wait(jobId: string): Promise<JobReport> {
    const e = this.#jobs.get(jobId);
    if (!e) return Promise.reject(new Error(`no job ${jobId}`));
    return e.done;
  }

  async waitAll(): Promise<JobReport[]> {
    return Promise.all([...this.#jobs.values()].map((e) => e.done));
  }

  /** Jobs a previous Flashline process left unfinished. */
  async interrupted(): Promise<JournalState[]> {
    // Jobs of this process are running, not interrupted, even though their journals have no end yet.
    return (await listInterrupted(this.#opts.engine.journalDir)).filter(
      (j) => !this.#jobs.has(j.start.jobId),
    );
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
    const line = `${JSON.stringify({ type: 'end', at: new Date().toISOString(), status: JOB_CODES.interrupted, message: report.message })}\n`;
    await writeFileAtomic(state.path, (await readFile(state.path, 'utf8')) + line);
    await this.#opts.reports?.save(report);
    return report;
  }

  subscribe(listener: (e: JobEvent) => void): () => void {
    this.#events.on('event', listener);
    return () => this.#events.off('event', listener);
  }

  async *events(signal?: AbortSignal): AsyncGenerator<JobEvent> {
    try {
      for await (const [e] of on(this.#events, 'event', { signal })) yield e as JobEvent;
    } catch (err) {
      if (signal?.aborted) return;
      throw err;
    }
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

  #emit(e: JobEvent): void {
    this.#events.emit('event', e);
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
