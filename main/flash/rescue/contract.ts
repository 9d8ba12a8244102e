/**
 * The rescue job's contract, shared by the CLI (`flashline rescue`), the API (main/api/rescue-router.ts) and
 * the UI: what a caller asks for, the progress it is told, and the report it gets back.
 * A rescue takes a device in Qualcomm EDL from a signed rescue package back to a bootable device:
 * verify package → Sahara identify → programmer check + upload → optional backup → program → patch →
 * set bootable → reset → wait for it to come back (fastboot or Android) → the normal postcheck.
 */
import { z } from 'zod';

export const RESCUE_STAGES = [
  'verify',
  'identify',
  'programmer',
  'backup',
  'program',
  'patch',
  'bootable',
  'reset',
  'wait-back',
  'postcheck',
] as const;

export type RescueStage = (typeof RESCUE_STAGES)[number];

export interface RescueRequest {
  /** The EDL device: `edl:HOST:PORT`, a serial port path, or a USB id from discovery. */
  readonly deviceId: string;
  /** A signed rescue package (.flp of kind `qualcomm-rescue`). */
  readonly packagePath: string;
  /** Read these partitions to DIR (one atomic file each) before anything is written. */
  readonly backup?: { readonly partitions: readonly string[]; readonly dir: string };
  /**
   * Where the device comes back after the reset (`tcp:HOST:PORT` fastboot, `adb:HOST:PORT`, a USB id) and
   * how long to wait (default 120 s). Without a deviceId, `edl:HOST:PORT` comes back as `tcp:HOST:PORT`; for
   * other ids the rescue ends 41 after the reset, saying to give it. The unit must report the serial Sahara
   * reported (hex) and one of the package's products (else 45).
   */
  readonly comeBack?: { readonly deviceId?: string; readonly timeoutMs?: number };
  readonly signal?: AbortSignal;
  /** The job this rescue runs as (the station's job view), so its report carries the same id; else a new one. */
  readonly job?: { readonly jobId: string; readonly startedAt: string };
}

export interface RescueProgress {
  readonly stage: RescueStage;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Bytes per second over the current stage (0 when not measurable yet). */
  readonly rate: number;
  readonly etaSeconds?: number;
  /** What is being worked on: a partition label, an image file name, a step. */
  readonly label?: string;
}

export const rescueReportSchema = z.object({
  jobId: z.string(),
  deviceId: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  /** The job's status code (main/common/status-codes.ts); the CLI exits with it. */
  status: z.number().int(),
  statusName: z.string(),
  message: z.string(),
  remedy: z.string(),
  identity: z.object({
    serial: z.string().optional(),
    msmHwId: z.string().optional(),
    oemPkHash: z.string().optional(),
    saharaVersion: z.number().int().optional(),
  }),
  package: z.object({ id: z.string(), version: z.string(), sha256: z.string() }),
  backups: z.array(
    z.object({ partition: z.string(), file: z.string(), bytes: z.number(), sha256: z.string() }),
  ),
  /** The programmer's `<log value="…"/>` lines, in order. */
  deviceLog: z.array(z.string()),
  /** The device id it came back as after the reset (e.g. `tcp:127.0.0.1:5554`). */
  cameBackAs: z.string().optional(),
  /** How the postcheck confirmed the device (mode, serial, product). */
  postcheck: z.string().optional(),
  stages: z.array(
    z.object({
      stage: z.enum(RESCUE_STAGES),
      startedAt: z.string(),
      endedAt: z.string().optional(),
      bytes: z.number(),
    }),
  ),
});

export type RescueReport = z.infer<typeof rescueReportSchema>;

export type RunRescue = (
  req: RescueRequest,
  onProgress: (p: RescueProgress) => void,
) => Promise<RescueReport>;
