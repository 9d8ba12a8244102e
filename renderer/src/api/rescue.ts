/**
 * The rescue flow's view logic, apart from React so it is unit-tested: whether a device card offers
 * "Rescue…", the stage words, parsing the backup field, and how the job list follows rescue events.
 */
import type {
  DeviceInfo,
  RescueEvent,
  RescueJobView,
  RescueProgress,
  RescueStage,
} from '../../../main/api/types.js';
import type { RebootOffer } from './device-mode.js';

/** "Rescue…" on a device in Qualcomm EDL that no job owns. */
export function rescueOffer(device: DeviceInfo): RebootOffer {
  if (device.mode !== 'edl' || device.sameAs) return { shown: false, enabled: false };
  if (device.state === 'busy') return { shown: true, enabled: false, why: 'A rescue runs on this device' };
  if (device.state !== 'ready')
    return { shown: true, enabled: false, why: 'The device has not answered in EDL (see its note)' };
  return { shown: true, enabled: true };
}

export const RESCUE_STAGE_LABELS: Readonly<Record<RescueStage, string>> = {
  verify: 'Verifying the package',
  identify: 'Identifying the device',
  programmer: 'Loading the programmer',
  backup: 'Backing up partitions',
  program: 'Writing images',
  patch: 'Patching partition tables',
  bootable: 'Setting the boot drive',
  reset: 'Restarting the device',
  'wait-back': 'Waiting for the device to come back',
  postcheck: 'Checking the device',
};

/** Partition labels from "boot, abl  modem": separated by commas or spaces; null when one is not a label. */
export function parseBackupField(text: string): string[] | null {
  const names = text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.some((n) => !/^[A-Za-z0-9_.-]{1,36}$/.test(n))) return null;
  return [...new Set(names)];
}

/** Percent of the current stage, or null when its size is not known. */
export function stagePercent(p: RescueProgress | undefined): number | null {
  if (!p || p.bytesTotal <= 0) return null;
  return Math.min(100, Math.floor((p.bytesDone / p.bytesTotal) * 100));
}

export type RescueJobs = ReadonlyMap<string, RescueJobView>;

export function applyRescueEvent(jobs: RescueJobs, event: RescueEvent): RescueJobs {
  const next = new Map(jobs);
  if (event.type === 'started') next.set(event.job.jobId, event.job);
  else {
    const job = next.get(event.jobId);
    if (!job) return jobs;
    next.set(
      event.jobId,
      event.type === 'progress'
        ? { ...job, progress: event.progress }
        : { ...job, state: 'ended', report: event.report },
    );
  }
  return next;
}
