/**
 * What the API sees of the flash service. Kept apart from service.ts so the API contract (and the
 * renderer's type-only view of it) never pulls in transports or native backends.
 */
import type { AutoFlashOptions } from './auto-flash.js';
import type { JobEvent } from './events.js';
import type { JobSummary } from './manager.js';
import type { FlashPackage } from './ports.js';
import type { JobReport } from './report.js';
import type { HistoryPage, ReportFilter } from './report-store.js';
import type { Stage } from './stages.js';

export interface PackageSummary {
  readonly path: string;
  readonly id: string;
  readonly version: string;
  readonly products: readonly string[];
  readonly sha256: string;
  readonly rollbackIndex: number;
  readonly images: readonly { partition: string; size: number }[];
}

/** A package as the flash service opened it: the engine's view plus what verification established. */
export interface OpenedPackage extends FlashPackage {
  /** Key ids of the trusted signatures that verified (the trust threshold was met with these). */
  readonly signerKeyIds: readonly string[];
  /** The trust-store keys behind signerKeyIds (file and comment), for a readable signer name. */
  readonly signers?: readonly { keyId: string; source: string; comment?: string }[];
  /** ISO date-times from the signed manifest. */
  readonly created: string;
  readonly expires: string;
  readonly encrypted: boolean;
  readonly description?: string;
}

/** A device auto-flash left alone, and why (already passed, failed, wrong product, busy). */
export interface AutoFlashSkip {
  readonly deviceId: string;
  readonly serial?: string;
  readonly reason: string;
  readonly at: string;
}

export interface AutoFlashState {
  readonly enabled: boolean;
  readonly packagePath: string | null;
  /** The latest skips (newest last, at most 20), present once there is one, so a screen can say why. */
  readonly skipped?: readonly AutoFlashSkip[];
}

/** A job a previous Flashline process left unfinished, as a technician decides about it. */
export interface InterruptedJob {
  readonly jobId: string;
  readonly deviceId: string;
  readonly package: {
    readonly id: string;
    readonly version: string;
    readonly sha256: string;
    readonly path?: string | undefined;
  };
  readonly serial: string | undefined;
  readonly stoppedDuring: Stage;
}

/**
 * Everything the API may ask of the flash service: the API depends on this interface only, never on the
 * service's job manager, journal or report store.
 */
export interface FlashServiceApi {
  /** Open and verify a package (signature, trust, structure); cached by path. */
  openPackage(path: string): Promise<OpenedPackage>;
  packages(): PackageSummary[];
  /** Drop a package from the cache (its file was removed); the next open reads the file again. */
  forgetPackage(path: string): void;
  /** Start one job per device; returns the job ids in the same order. */
  /** One job per target: a device id, or several endpoint ids of one unit. */
  flash(packagePath: string, targets: readonly (string | readonly string[])[]): Promise<string[]>;
  /**
   * Auto-flash on connect: every newly connected supported device in `registry` gets the package; serials
   * already flashed with it are skipped unless `force`. `packagePath: null` turns it off.
   */
  setAutoFlash(
    registry: AutoFlashOptions['registry'],
    packagePath: string | null,
    force?: boolean,
  ): Promise<AutoFlashState>;
  /** The current auto-flash setting, so every open page shows the same switch. */
  getAutoFlash(): AutoFlashState;
  /** Jobs of this process (queued, running and finished), in start order. */
  listJobs(): JobSummary[];
  /** Cancel a queued or running job; false when there is no such job. */
  cancelJob(jobId: string): boolean;
  /** Flashline is stopping: end every job safely, leave each resumable, and resolve once all have ended. */
  stopAllJobs(): Promise<void>;
  /** Progress, stage changes, messages and ends of every job, live, until `signal` aborts. */
  jobEvents(signal?: AbortSignal): AsyncIterable<JobEvent>;
  /** Saved job reports, oldest first; only those ended at or after `since`, at most `limit`, when given. */
  listReports(query?: { since?: Date; limit?: number }): Promise<JobReport[]>;
  /** One page of the History screen from the report index: newest first, with the counts. */
  historyPage(query: ReportFilter & { cursor?: number | undefined; limit: number }): Promise<HistoryPage>;
  /** Every saved report matching the History filter, read in batches (for exports). */
  reportsMatching(filter: ReportFilter): AsyncIterable<JobReport>;
  /** Jobs a previous Flashline process left unfinished. */
  interruptedJobs(): Promise<InterruptedJob[]>;
  /** Resume an interrupted job on its device with the package file its journal names; returns its job id. */
  resumeInterrupted(jobId: string): Promise<string>;
  /** Close an interrupted job without resuming it (status 18); returns that status. */
  discardInterrupted(jobId: string): Promise<number>;
  /** Paths of the package files an unfinished job or auto-flash still reads (they must not be removed). */
  packagesInUse(): Set<string>;
}
