/**
 * Synthetic jobs for the UI benchmark: one download per device reporting progress at 4 Hz (the engine's
 * throttle, PROGRESS_INTERVAL_MS) in the engine's own event shapes, started a quarter second apart in total
 * so the updates spread over time as real ones do. `over(service)` serves them through a real flash service
 * (everything else — packages, history, reports — stays the service's own).
 */

import { EventStream } from '../main/common/event-stream.js';
import type { JobEvent } from '../main/flash/events.js';
import type { JobSummary } from '../main/flash/manager.js';
import { PROGRESS_INTERVAL_MS } from '../main/flash/progress.js';
import type { FlashServiceApi } from '../main/flash/service-api.js';

const GiB = 1024 ** 3;

export interface ProgressReplay {
  /** Progress events emitted so far (all devices). */
  readonly emitted: () => number;
  over(service: FlashServiceApi): FlashServiceApi;
  stop(): void;
}

export function replayProgress(deviceIds: readonly string[], rateBytesPerSecond: number): ProgressReplay {
  const stream = new EventStream<JobEvent>();
  const jobs = deviceIds.map((deviceId, i) => ({ jobId: `bench-job-${i + 1}`, deviceId, done: 0 }));
  const timers: NodeJS.Timeout[] = [];
  const starts: NodeJS.Timeout[] = [];
  let emitted = 0;
  const total = 4 * GiB;
  jobs.forEach((job, i) => {
    starts.push(
      setTimeout(
        () => {
          stream.emit({ type: 'stage', jobId: job.jobId, deviceId: job.deviceId, stage: 'download' });
          timers.push(
            setInterval(() => {
              job.done = Math.min(total, job.done + (rateBytesPerSecond * PROGRESS_INTERVAL_MS) / 1000);
              emitted++;
              stream.emit({
                type: 'progress',
                jobId: job.jobId,
                deviceId: job.deviceId,
                stage: 'download',
                bytesDone: job.done,
                bytesTotal: total,
                rate: rateBytesPerSecond,
                eta: Math.ceil((total - job.done) / rateBytesPerSecond),
              });
            }, PROGRESS_INTERVAL_MS),
          );
        },
        (i * PROGRESS_INTERVAL_MS) / jobs.length,
      ),
    );
  });
  const summaries = (): JobSummary[] =>
    jobs.map((j) => ({ jobId: j.jobId, deviceId: j.deviceId, packageId: 'bench', state: 'download' }));
  return {
    emitted: () => emitted,
    over: (service) =>
      new Proxy(service, {
        get(target, prop) {
          if (prop === 'jobEvents') return (signal?: AbortSignal) => stream.events(signal);
          if (prop === 'listJobs') return summaries;
          const value = Reflect.get(target, prop, target) as unknown;
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    stop: () => {
      for (const t of [...starts, ...timers]) clearTimeout(t);
    },
  };
}
