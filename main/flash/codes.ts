/**
 * Job failures: every way a job can fail maps to exactly one status code from the one table
 * (main/common/status-codes.ts). Stage code throws `jobFailure(...)`; the job runner turns any other
 * error into a code with `classify`.
 */
import { FlashlineError } from '../common/errors.js';
import { describeStorageFault, storageFault } from '../common/station-storage.js';
import { statusInfo } from '../common/status-codes.js';
import { PKG } from '../package/codes.js';
import { DeviceLinkError } from './ports.js';
import type { Stage } from './stages.js';

export const JOB_CODES = {
  ok: 0,
  downloadFailed: 10,
  linkLost: 11,
  deviceTimeout: 12,
  insufficientStorage: 13,
  downloadBufferTooSmall: 14,
  deviceNotFound: 15,
  batteryLow: 16,
  protocolError: 17,
  cancelled: 18,
  /** The station's own disk (journal, reports, cache, uploads) is full, read-only or not writable. */
  stationStorage: 19,
  /** Flashline stopped mid-job and the job was closed instead of resumed (same code as a cancel). */
  interrupted: 18,
  verifyFailed: PKG.verifyFailed,
  malformedPackage: PKG.malformed,
  rollbackRefused: PKG.rollbackRefused,
  wrongProduct: PKG.wrongProduct,
  imageMismatch: PKG.imageMismatch,
  installFailed: 30,
  writeRefused: 31,
  switchFailed: 32,
  noInactiveSlot: 33,
  installStepFailed: 34,
  identityMismatch: 35,
  /** Another station of the fleet flashed (or is flashing) this unit with this package. */
  unitClaimedElsewhere: 38,
  postcheckFailed: 40,
  notBack: 41,
  bootedOldSlot: 42,
  wrongVersion: 43,
  commitFailed: 44,
} as const;

export function jobFailure(code: number, message: string, detail?: unknown): FlashlineError {
  return new FlashlineError(code, message, detail);
}

export function isJobFailure(err: unknown): err is FlashlineError & { code: number } {
  return err instanceof FlashlineError && typeof err.code === 'number';
}

/** Map any error raised during `stage` to exactly one numeric status code, keeping the message. */
export function classify(err: unknown, stage: Stage): FlashlineError & { code: number } {
  if (isJobFailure(err)) return err;
  if (err instanceof DeviceLinkError) {
    const detail = err.deviceMessage === undefined ? undefined : { deviceMessage: err.deviceMessage };
    switch (err.kind) {
      case 'disconnected':
        return withCode(JOB_CODES.linkLost, err.message, detail);
      case 'timeout':
        return withCode(JOB_CODES.deviceTimeout, err.message, detail);
      case 'protocol':
        return withCode(JOB_CODES.protocolError, err.message, detail);
      case 'unauthorized':
        // The device is there but will not talk to this host: unreachable for flashing, with its own remedy.
        return withCode(JOB_CODES.deviceNotFound, err.message, { ...detail, remedy: err.remedy });
      case 'device-fail':
        // A device that runs out of room mid-write is a storage problem (1x), whatever the stage.
        if (
          /storage full|no space|not enough (free )?space|too large|holds only/i.test(err.deviceMessage ?? '')
        ) {
          return withCode(JOB_CODES.insufficientStorage, err.message, detail);
        }
        return withCode(deviceFailCode(stage), err.message, detail);
    }
  }
  const disk = stationStorageFailure('its records', err);
  if (disk) return disk;
  if (err instanceof FlashlineError && typeof err.code === 'string') {
    // Non-numeric codes (e.g. 'internal' from a library) are classified by the stage they broke.
    return withCode(stageDecade(stage), err.message, err.detail);
  }
  const message = err instanceof Error ? err.message : String(err);
  return withCode(stageDecade(stage), message);
}

/**
 * A fault of the station's own disk as the job's failure (19), naming what could not be written; undefined
 * when `err` is not one. Device faults never get here: they are DeviceLinkErrors, classified above.
 */
export function stationStorageFailure(
  what: string,
  err: unknown,
): (FlashlineError & { code: number }) | undefined {
  if (err instanceof FlashlineError && err.code === JOB_CODES.stationStorage)
    return err as FlashlineError & { code: number };
  const fault = storageFault(err);
  if (!fault) return undefined;
  const message =
    err instanceof FlashlineError && err.code === 'station_storage'
      ? err.message
      : describeStorageFault(what, fault);
  return withCode(JOB_CODES.stationStorage, message, fault);
}

function withCode(code: number, message: string, detail?: unknown): FlashlineError & { code: number } {
  return new FlashlineError(code, message, detail) as FlashlineError & { code: number };
}

function deviceFailCode(stage: Stage): number {
  switch (stage) {
    case 'preflight':
    case 'download':
      return JOB_CODES.writeRefused;
    case 'verify':
      return JOB_CODES.verifyFailed;
    case 'install':
      return JOB_CODES.installStepFailed;
    case 'switch':
      return JOB_CODES.switchFailed;
    default:
      return JOB_CODES.postcheckFailed;
  }
}

function stageDecade(stage: Stage): number {
  switch (stage) {
    case 'preflight':
    case 'download':
      return JOB_CODES.downloadFailed;
    case 'verify':
      return JOB_CODES.verifyFailed;
    case 'install':
    case 'switch':
      return JOB_CODES.installFailed;
    default:
      return JOB_CODES.postcheckFailed;
  }
}

/** The remedy a technician sees: the failure's own (detail.remedy) when it has one, else the table's. */
export function remedyOf(code: number, failure: FlashlineError | undefined): string {
  const own = (failure?.detail as { remedy?: unknown } | undefined)?.remedy;
  return typeof own === 'string' && own ? own : describeCode(code).remedy;
}

export function describeCode(code: number): { name: string; message: string; remedy: string } {
  const info = statusInfo(code);
  return { name: info.name, message: info.message, remedy: info.remedy };
}
