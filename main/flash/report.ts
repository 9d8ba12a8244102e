/**
 * The per-job report: identity, package, stages with start/end/bytes, rate, status code and the device's
 * own messages. Built while the job runs, then saved by the report store.
 */
import { z } from 'zod';
import { describeCode } from './codes.js';
import { STAGES, type Stage } from './stages.js';

export const jobReportSchema = z.object({
  jobId: z.string(),
  deviceId: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  device: z.object({
    serial: z.string().optional(),
    product: z.string().optional(),
    hardwareRevision: z.string().optional(),
    bootloader: z.string().optional(),
    slotBefore: z.string().optional(),
    slotAfter: z.string().optional(),
    versionBefore: z.string().optional(),
    versionAfter: z.string().optional(),
    /** The mode the job found the device in (`android`, `fastboot`, …). */
    mode: z.string().optional(),
    /** Android build fingerprint, as last seen (after the update when the postcheck ran in Android). */
    build: z.string().optional(),
    /** The vendor profile its capabilities came from (resources/devices/<profile>.json). */
    profile: z.string().optional(),
  }),
  package: z.object({
    id: z.string(),
    version: z.string(),
    sha256: z.string(),
    rollbackIndex: z.number(),
  }),
  stages: z.array(
    z.object({
      stage: z.enum(STAGES),
      startedAt: z.string(),
      endedAt: z.string().optional(),
      bytes: z.number(),
    }),
  ),
  bytesWritten: z.number(),
  /** Average bytes per second over the download stage. */
  rate: z.number(),
  status: z.number().int(),
  statusName: z.string(),
  message: z.string(),
  remedy: z.string(),
  deviceVerification: z.enum(['ok', 'not-available', 'not-reached']),
  resumes: z.number().int(),
  messages: z.array(z.string()),
  /**
   * What could not be checked on this device, one sentence each ("device rollback index not available:
   * checked against this station's record only"). Absent in reports written before #19.
   */
  unchecked: z.array(z.string()).optional(),
  /** How the postcheck confirmed the update (mode, what was read, whether the commit was confirmed). */
  postcheck: z.string().optional(),
});
export type JobReport = z.infer<typeof jobReportSchema>;

const MAX_MESSAGES = 200;

export class ReportBuilder {
  readonly #r: {
    -readonly [K in keyof JobReport]: JobReport[K];
  };
  #downloadMs = 0;

  readonly #notice: ((text: string) => void) | undefined;

  /** `notice` hears what the technician should see live too: unchecked items, the postcheck's confirmation. */
  constructor(jobId: string, deviceId: string, pkg: JobReport['package'], notice?: (text: string) => void) {
    this.#notice = notice;
    this.#r = {
      jobId,
      deviceId,
      startedAt: new Date().toISOString(),
      endedAt: '',
      device: {},
      package: pkg,
      stages: [],
      bytesWritten: 0,
      rate: 0,
      status: -1,
      statusName: '',
      message: '',
      remedy: '',
      deviceVerification: 'not-reached',
      resumes: 0,
      messages: [],
    };
  }

  device(info: Partial<JobReport['device']>): void {
    for (const [k, v] of Object.entries(info)) {
      if (v !== undefined) (this.#r.device as Record<string, string>)[k] = v;
    }
  }

  stageStart(stage: Stage): void {
    this.#closeStage();
    this.#r.stages.push({ stage, startedAt: new Date().toISOString(), bytes: 0 });
  }

  stageBytes(n: number): void {
    const s = this.#r.stages[this.#r.stages.length - 1];
    if (s) s.bytes += n;
    if (s?.stage === 'download' || s?.stage === 'install') this.#r.bytesWritten += n;
  }

  #closeStage(): void {
    const s = this.#r.stages[this.#r.stages.length - 1];
    if (s && !s.endedAt) {
      s.endedAt = new Date().toISOString();
      if (s.stage === 'download') this.#downloadMs += Date.parse(s.endedAt) - Date.parse(s.startedAt);
    }
  }

  message(text: string): void {
    if (this.#r.messages.length < MAX_MESSAGES) this.#r.messages.push(text);
  }

  /** A message the technician should also see live (the device's state changed under the job's hands). */
  announce(text: string): void {
    this.message(text);
    this.#notice?.(text);
  }

  /** Add what could not be checked (each sentence once). */
  unchecked(sentences: readonly string[]): void {
    const list = this.#r.unchecked ?? [];
    for (const s of sentences) {
      if (list.includes(s)) continue;
      list.push(s);
      this.#notice?.(`not checked: ${s}`);
    }
    this.#r.unchecked = list;
  }

  /** How the postcheck confirmed the update, for the report and the CLI. */
  postcheck(text: string): void {
    this.#r.postcheck = text;
    this.#notice?.(`postcheck: ${text}`);
  }

  verification(v: JobReport['deviceVerification']): void {
    if (this.#r.deviceVerification !== 'not-available') this.#r.deviceVerification = v;
  }

  resumed(): void {
    this.#r.resumes++;
  }

  /** `remedy` overrides the table's when the failure knows better (e.g. an unauthorized phone). */
  finish(status: number, message: string, remedy?: string): JobReport {
    this.#closeStage();
    const info = describeCode(status);
    this.#r.endedAt = new Date().toISOString();
    this.#r.status = status;
    this.#r.statusName = info.name;
    this.#r.message = message;
    this.#r.remedy = remedy ?? info.remedy;
    const dl = this.#r.stages.filter((s) => s.stage === 'download').reduce((a, s) => a + s.bytes, 0);
    this.#r.rate = this.#downloadMs > 0 ? Math.round((dl * 1000) / this.#downloadMs) : 0;
    return structuredClone(this.#r);
  }
}
