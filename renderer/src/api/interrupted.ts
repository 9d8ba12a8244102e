/**
 * Jobs a previous Flashline process left unfinished (a crash or power cut): each can be resumed where it
 * stopped, or discarded (closed with status 18; the device stays on its working slot).
 */
import type { inferRouterOutputs } from '@trpc/server';
import type { AppRouter, DeviceInfo } from '../../../main/api/types.js';
import { type DeviceLabel, deviceLabel } from './device-label.js';
import { PHASE_LABELS } from './jobs.js';

export type InterruptedJob = inferRouterOutputs<AppRouter>['jobs']['interrupted'][number];

export interface InterruptedLine {
  readonly jobId: string;
  readonly label: DeviceLabel;
  /** "Stopped while Downloading flashline-demo 2.0.0". */
  readonly what: string;
  /** Resume needs the same device connected and free; null when it can resume now. */
  readonly cannotResume: string | null;
}

export function interruptedLine(job: InterruptedJob, devices: readonly DeviceInfo[]): InterruptedLine {
  const device = devices.find((d) => d.id === job.deviceId);
  const label = deviceLabel({ serial: device?.serial ?? job.serial, product: device?.product });
  const phase = PHASE_LABELS[job.stoppedDuring].toLowerCase();
  let cannotResume: string | null = null;
  if (!device) cannotResume = `Connect ${label.serial} to resume it.`;
  else if (device.state === 'busy') cannotResume = 'The device is busy.';
  else if (!job.package.path) cannotResume = 'The package file is not known; flash the device again.';
  return {
    jobId: job.jobId,
    label,
    what: `Stopped while ${phase}: ${job.package.id} ${job.package.version}`,
    cannotResume,
  };
}
