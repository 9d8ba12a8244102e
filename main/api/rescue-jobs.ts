/**
 * Rescue jobs of one service (station, desktop): a job per device in EDL, run by the rescue flow
 * (main/flash/rescue, the `RunRescue` contract) while the registry holds the device busy, so discovery never
 * opens its port meanwhile. Progress is forwarded as events (~4 Hz per job; every stage change passes), the
 * end carries the RescueReport. A device that came back (fastboot) is handed to the composition root,
 * which watches it as a normal device that can be flashed.
 */

import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { FlashlineError } from '../common/errors.js';
import { EventStream } from '../common/event-stream.js';
import type { DeviceRegistry } from '../devices/registry.js';
import { PROGRESS_INTERVAL_MS } from '../flash/progress.js';
import type { RescueProgress, RescueReport, RunRescue } from '../flash/rescue/contract.js';
import { RescueReportBuilder } from '../flash/rescue/report.js';

export interface RescueStart {
  readonly deviceId: string;
  readonly packagePath: string;
  /** Partitions read back to the station's backup folder before anything is written. */
  readonly backupPartitions?: readonly string[];
  /**
   * Where the device comes back after its reset (e.g. `tcp:HOST:PORT`); without it the rescue flow's own
   * default (an `edl:HOST:PORT` device comes back as `tcp:HOST:PORT`).
   */
  readonly comeBackDeviceId?: string;
}

export interface RescueJobView {
  readonly jobId: string;
  readonly deviceId: string;
  readonly packagePath: string;
  readonly startedAt: string;
  readonly state: 'running' | 'ended';
  readonly progress?: RescueProgress;
  readonly report?: RescueReport;
}

export type RescueEvent =
  | { readonly type: 'started'; readonly job: RescueJobView }
  | {
      readonly type: 'progress';
      readonly jobId: string;
      readonly deviceId: string;
      readonly progress: RescueProgress;
    }
  | {
      readonly type: 'end';
      readonly jobId: string;
      readonly deviceId: string;
      readonly report: RescueReport;
    };

/** A rescue package a job of this session verified (its report names it), for the UI to offer again. */
export interface RescuePackageSeen {
  readonly path: string;
  readonly id: string;
  readonly version: string;
  readonly sha256: string;
}

/** What the API asks of the rescue jobs (kept as an interface so the router needs no runner). */
export interface RescueServiceApi {
  start(req: RescueStart): Promise<RescueJobView>;
  /** Rescue packages verified by this session's jobs, newest first. */
  packages(): RescuePackageSeen[];
  cancel(jobId: string): boolean;
  list(): RescueJobView[];
  events(signal?: AbortSignal): AsyncIterable<RescueEvent>;
}

export interface RescueJobsOptions {
  readonly devices: DeviceRegistry;
  readonly run: RunRescue;
  /** Backups go to `<backupRoot>/<serial or device>-<time>/` (the station chooses, never the client). */
  readonly backupRoot: string;
  /** A device came back after its rescue as `id` (e.g. `tcp:HOST:PORT`): watch it as a normal device. */
  readonly onCameBack?: (id: string) => void;
  readonly now?: () => number;
}

export class RescueJobs implements RescueServiceApi {
  readonly #jobs = new Map<string, RescueJobView>();
  readonly #controllers = new Map<string, AbortController>();
  readonly #packages = new Map<string, RescuePackageSeen>();
  readonly #events = new EventStream<RescueEvent>();
  readonly #opts: RescueJobsOptions;

  constructor(opts: RescueJobsOptions) {
    this.#opts = opts;
  }

  list(): RescueJobView[] {
    return [...this.#jobs.values()];
  }

  packages(): RescuePackageSeen[] {
    return [...this.#packages.values()].reverse();
  }

  async start(req: RescueStart): Promise<RescueJobView> {
    const { devices } = this.#opts;
    const device = devices.get(req.deviceId);
    if (!device)
      throw new FlashlineError(
        'not_found',
        `No device with id ${req.deviceId} is connected. Refresh the device list.`,
      );
    if (device.mode !== 'edl')
      throw new FlashlineError(
        'not_possible',
        `${req.deviceId} is in ${device.mode} mode; a rescue is for devices in Qualcomm download mode (EDL). Flash it normally instead.`,
      );
    if (device.state !== 'ready')
      throw new FlashlineError(
        device.state === 'busy' ? 'busy' : 'not_possible',
        device.state === 'busy'
          ? `${req.deviceId} is busy with another job; wait for it to end.`
          : `${req.deviceId} is not ready (${device.state}${device.note ? `: ${device.note}` : ''}); reconnect it in EDL and refresh.`,
      );
    const jobId = randomUUID();
    const now = this.#opts.now ?? Date.now;
    const job: RescueJobView = {
      jobId,
      deviceId: req.deviceId,
      packagePath: req.packagePath,
      startedAt: new Date(now()).toISOString(),
      state: 'running',
    };
    const controller = new AbortController();
    this.#jobs.set(jobId, job);
    this.#controllers.set(jobId, controller);
    devices.markBusy(req.deviceId);
    this.#emit({ type: 'started', job });
    void this.#run(job, req, device.serial, controller.signal);
    return job;
  }

  cancel(jobId: string): boolean {
    const c = this.#controllers.get(jobId);
    if (!c) return false;
    c.abort();
    return true;
  }

  async *events(signal?: AbortSignal): AsyncGenerator<RescueEvent> {
    yield* this.#events.events(signal);
  }

  async #run(job: RescueJobView, req: RescueStart, serial: string | undefined, signal: AbortSignal) {
    const now = this.#opts.now ?? Date.now;
    let lastStage: string | undefined;
    let lastAt = Number.NEGATIVE_INFINITY;
    // Progress crosses the process boundary at most every PROGRESS_INTERVAL_MS per job, as a flash job's
    // (stage changes and a stage's end always pass).
    const onProgress = (progress: RescueProgress) => {
      this.#set(job.jobId, { progress });
      const t = now();
      const final = progress.bytesTotal > 0 && progress.bytesDone >= progress.bytesTotal;
      if (progress.stage === lastStage && !final && t - lastAt < PROGRESS_INTERVAL_MS) return;
      lastStage = progress.stage;
      lastAt = t;
      this.#emit({ type: 'progress', jobId: job.jobId, deviceId: job.deviceId, progress });
    };
    const stamp = job.startedAt.replace(/[:.]/g, '-');
    let report: RescueReport;
    try {
      report = await this.#opts.run(
        {
          deviceId: req.deviceId,
          packagePath: req.packagePath,
          ...(req.backupPartitions?.length
            ? {
                backup: {
                  partitions: req.backupPartitions,
                  dir: join(
                    this.#opts.backupRoot,
                    `${serial ?? req.deviceId.replace(/[^\w.-]/g, '_')}-${stamp}`,
                  ),
                },
              }
            : {}),
          ...(req.comeBackDeviceId ? { comeBack: { deviceId: req.comeBackDeviceId } } : {}),
          job: { jobId: job.jobId, startedAt: job.startedAt },
          signal,
        },
        onProgress,
      );
    } catch (err) {
      // The flow reports its own failures; a throw is a fault in it, still ended as data for the UI.
      report = this.#faultReport(job, err);
    }
    this.#settle(job, report);
  }

  #settle(job: RescueJobView, report: RescueReport): void {
    const { devices } = this.#opts;
    this.#controllers.delete(job.jobId);
    this.#set(job.jobId, { state: 'ended', report });
    // The verify stage named the package (a refused one has no id): offer it for the next device.
    if (report.package.id) {
      this.#packages.delete(job.packagePath);
      this.#packages.set(job.packagePath, { path: job.packagePath, ...report.package });
    }
    // The EDL port is not probed again (a rescued device no longer speaks Sahara there): it is marked as
    // what happened, then freed. A failed rescue leaves the ROM as it was: identify it again.
    if (report.status === 0 || report.cameBackAs) {
      devices.update(job.deviceId, {
        state: 'gone',
        note: `rescued${report.cameBackAs ? `; back as ${report.cameBackAs}` : ''}`,
      });
      void devices.release(job.deviceId);
      if (report.cameBackAs) this.#opts.onCameBack?.(report.cameBackAs);
    } else void devices.release(job.deviceId);
    this.#emit({ type: 'end', jobId: job.jobId, deviceId: job.deviceId, report });
  }

  #faultReport(job: RescueJobView, err: unknown): RescueReport {
    const report = new RescueReportBuilder(job.deviceId, job).finish(
      10,
      err instanceof Error ? err.message : String(err),
    );
    return { ...report, endedAt: new Date((this.#opts.now ?? Date.now)()).toISOString() };
  }

  #set(jobId: string, changes: Partial<RescueJobView>): void {
    const before = this.#jobs.get(jobId);
    if (before) this.#jobs.set(jobId, { ...before, ...changes });
  }

  #emit(event: RescueEvent): void {
    this.#events.emit(event);
  }
}
