/**
 * The flash service a composition root builds once: a job manager wired to the real fastboot connector,
 * the journal and report history under flashlineHome(), the station's rollback record, and a cache of
 * opened (verified) packages. The API, the CLI and the demo all use this one object.
 */
import { join } from 'node:path';
import { FlashlineError } from '../common/errors.js';
import { flashlineHome } from '../common/paths.js';
import type { DiskIo } from '../common/station-storage.js';
import { DeviceRegistry } from '../devices/registry.js';
import { StationRollbackStore } from '../package/index.js';
import { openAdb } from '../protocol/adb/index.js';
import { AndroidCapableConnector } from './adapters/adb.js';
import { FastbootConnector } from './adapters/fastboot.js';
import { loadStationKeys, openFlashPackage } from './adapters/package.js';
import { type AutoFlashOptions, startAutoFlash } from './auto-flash.js';
import { DEFAULT_ENGINE_OPTIONS, type EngineOptions } from './context.js';
import type { JobEvent } from './events.js';
import type { JournalState } from './journal.js';
import { FlashManager, type FlashManagerOptions, type JobSummary } from './manager.js';
import type { DeviceConnector } from './ports.js';
import type { JobReport } from './report.js';
import {
  type HistoryPage,
  type ReportFilter,
  ReportStore,
  type RetentionPolicy,
  retentionFromEnv,
  type SyncTarget,
} from './report-store.js';
import type {
  AutoFlashSkip,
  AutoFlashState,
  FlashServiceApi,
  InterruptedJob,
  OpenedPackage,
  PackageSummary,
} from './service-api.js';
import type { UnitClaims } from './unit-claims.js';

const KEPT_SKIPS = 20;

/** A registry that may know which endpoints reach one unit (main/devices registry, #19). */
interface UnitRegistry {
  endpointsOf?(id: string): string[];
}

export interface FlashServiceOptions {
  readonly home?: string;
  readonly concurrency?: number;
  readonly trustDirs?: readonly string[];
  readonly connector?: DeviceConnector;
  readonly engine?: Partial<Omit<EngineOptions, 'journalDir'>>;
  // --- devices + encryption (line/auto-flash) ---
  /** Station key files for encrypted packages, besides `<home>/station-keys/*.key` (always used). */
  readonly decryptionKeyFiles?: readonly string[];
  /** The device registry whose life cycle follows this service's jobs (busy, then re-identified). */
  readonly devices?: DeviceRegistry;
  // --- end devices + encryption ---
  /** Report retention (default 90 days / 100,000 reports; FLASHLINE_RETENTION_DAYS / _REPORTS override). */
  readonly retention?: Partial<RetentionPolicy>;
  /** How many finished jobs the job list keeps, and for how long. */
  readonly keepFinished?: FlashManagerOptions['keepFinished'];
  /** File operations of the journal and report store (tests inject failing ones). */
  readonly disk?: DiskIo;
  /** Where reports are shipped (the fleet outbox): retention keeps what it has not taken yet. */
  readonly syncTarget?: SyncTarget;
}

/** What auto-flash may be told besides the package (the station's switch passes `force` only). */
export type AutoFlashPolicy = Pick<
  AutoFlashOptions,
  'force' | 'retryFailed' | 'onSkip' | 'onStart' | 'onEnd'
>;

export class FlashService implements FlashServiceApi {
  readonly manager: FlashManager;
  readonly reports: ReportStore;
  readonly journalDir: string;
  readonly #trustDirs: readonly string[] | undefined;
  readonly #unitClaims: UnitClaims | undefined;
  readonly #packages = new Map<string, OpenedPackage>();
  #autoFlash: { stop: () => void; packagePath: string; skipped: AutoFlashSkip[] } | undefined;
  readonly #home: string;
  readonly #decryptionKeyFiles: readonly string[];
  readonly #attached = new WeakSet<DeviceRegistry>();
  /** Attached registries, asked for a unit's endpoints (`endpointsOf`, when the registry offers it). */
  readonly #registries: UnitRegistry[] = [];

  constructor(options: FlashServiceOptions = {}) {
    const home = options.home ?? flashlineHome();
    this.#home = home;
    this.#decryptionKeyFiles = options.decryptionKeyFiles ?? [];
    this.journalDir = join(home, 'journal');
    this.reports = ReportStore.forHome(home, {
      retention: { ...retentionFromEnv(), ...options.retention },
      ...(options.disk ? { disk: options.disk } : {}),
      ...(options.syncTarget ? { syncTarget: options.syncTarget } : {}),
    });
    this.#unitClaims = options.engine?.unitClaims;
    this.#trustDirs = options.trustDirs;
    this.manager = new FlashManager({
      concurrency: options.concurrency ?? 4,
      // Every endpoint kind: fastboot (TCP, USB, serial) and ADB (a phone found in Android), keys in <home>/adb.
      connector:
        options.connector ??
        new AndroidCapableConnector(new FastbootConnector(), { open: openAdb, keyDir: join(home, 'adb') }),
      reports: this.reports,
      ...(options.keepFinished ? { keepFinished: options.keepFinished } : {}),
      ...(options.disk ? { disk: options.disk } : {}),
      engine: {
        ...DEFAULT_ENGINE_OPTIONS,
        rollbackRecord: new StationRollbackStore(join(home, 'rollback.json')),
        ...options.engine,
        journalDir: this.journalDir,
      },
    });
    if (options.devices) this.attachDevices(options.devices);
  }

  /**
   * Keep a registry's life cycle in step with this service's jobs: a device is busy while a job owns it and
   * is re-identified when the job ends, so what the Devices screen shows is what the device now reports.
   */
  attachDevices(registry: DeviceRegistry): void {
    if (this.#attached.has(registry)) return;
    this.#attached.add(registry);
    this.#registries.push(registry as UnitRegistry);
    this.manager.subscribe((e) => {
      if (e.type === 'stage' && registry.get(e.deviceId)?.state !== 'busy') registry.markBusy(e.deviceId);
      else if (e.type === 'end') void registry.release(e.deviceId);
    });
  }

  /** Open and verify a package (signature, trust, structure); cached by path for this process. */
  async openPackage(path: string): Promise<OpenedPackage> {
    const cached = this.#packages.get(path);
    if (cached) return cached;
    // Keys are read for every open (not cached): a key installed while the station runs is used at once.
    const { pkg, verified } = await openFlashPackage(path, {
      ...(this.#trustDirs ? { trustDirs: this.#trustDirs } : {}),
      decryptionKeys: await loadStationKeys(this.#home, this.#decryptionKeyFiles),
    });
    const m = verified.manifest;
    // Kept from the one verifying read, so no caller reads the head a second time.
    const opened: OpenedPackage = {
      ...pkg,
      signerKeyIds: verified.signers.map((s) => s.keyId),
      signers: verified.signers,
      created: m.created,
      expires: m.expires,
      encrypted: verified.encrypted,
      ...(m.description ? { description: m.description } : {}),
    };
    this.#packages.set(path, opened);
    return opened;
  }

  packages(): PackageSummary[] {
    return [...this.#packages.entries()].map(([path, p]) => ({
      path,
      id: p.id,
      version: p.version,
      products: p.products,
      sha256: p.sha256,
      rollbackIndex: p.rollbackIndex,
      images: p.images.map((i) => ({ partition: i.partition, size: i.size })),
    }));
  }

  forgetPackage(path: string): void {
    this.#packages.delete(path);
  }

  /**
   * Start one job per unit; returns the job ids in the same order. A target is a device id, or several
   * endpoint ids of one unit (e.g. `adb:H:PA` and `tcp:H:PF` answering with the same serial: the CLI groups
   * them). A single id is widened to its unit's endpoints when the attached registry knows them.
   */
  async flash(packagePath: string, targets: readonly (string | readonly string[])[]): Promise<string[]> {
    const pkg = await this.openPackage(packagePath);
    const interrupted = await this.manager.interrupted();
    return targets.map((target) => {
      const endpoints = typeof target === 'string' ? this.endpointsOf(target) : [...new Set(target)];
      const [deviceId] = endpoints;
      if (deviceId === undefined) throw new FlashlineError('bad_request', 'A flash target names no device.');
      // An interrupted job for the same unit and package is resumed rather than started over.
      const resume = interrupted.find(
        (j) =>
          j.start.package.sha256 === pkg.sha256 &&
          [j.start.deviceId, ...(j.start.endpoints ?? [])].some((e) => endpoints.includes(e)),
      );
      return this.manager.start({ deviceId, endpoints, pkg, packagePath, ...(resume ? { resume } : {}) });
    });
  }

  /** Every endpoint of the unit `id` belongs to, as the attached registry knows it (else just `id`). */
  endpointsOf(id: string): string[] {
    for (const r of this.#registries) {
      const known = r.endpointsOf?.(id);
      if (known && known.length > 0) return known;
    }
    return [id];
  }

  async setAutoFlash(
    registry: AutoFlashOptions['registry'],
    packagePath: string | null,
    force = false,
  ): Promise<AutoFlashState> {
    this.#autoFlash?.stop();
    this.#autoFlash = undefined;
    if (packagePath === null) return { enabled: false, packagePath: null };
    const skipped: AutoFlashSkip[] = [];
    const stop = await this.startAutoFlash(registry, packagePath, {
      force,
      onSkip: (d, reason) => {
        skipped.push({
          deviceId: d.id,
          ...(d.serial ? { serial: d.serial } : {}),
          reason,
          at: new Date().toISOString(),
        });
        if (skipped.length > KEPT_SKIPS) skipped.shift();
      },
    });
    this.#autoFlash = { stop, packagePath, skipped };
    return this.getAutoFlash();
  }

  /**
   * Flash every device of `registry` that becomes ready with the package (see auto-flash.ts for the
   * policy); resolves to a stop function. The station's switch and `flashline line` both come here.
   */
  async startAutoFlash(
    registry: AutoFlashOptions['registry'],
    packagePath: string,
    policy: AutoFlashPolicy = {},
  ): Promise<() => void> {
    const pkg = await this.openPackage(packagePath);
    if (registry instanceof DeviceRegistry) this.attachDevices(registry);
    return startAutoFlash({
      ...policy,
      registry,
      manager: this.manager,
      pkg,
      packagePath,
      reports: this.reports,
      ...(this.#unitClaims ? { unitClaims: this.#unitClaims } : {}),
    });
  }

  getAutoFlash(): AutoFlashState {
    const a = this.#autoFlash;
    if (!a) return { enabled: false, packagePath: null };
    return {
      enabled: true,
      packagePath: a.packagePath,
      ...(a.skipped.length > 0 ? { skipped: [...a.skipped] } : {}),
    };
  }

  // --- What the API asks of jobs, reports and interrupted jobs (FlashServiceApi); the API never reaches
  // into the manager or the report store itself. ---

  listJobs(): JobSummary[] {
    return this.manager.list();
  }

  cancelJob(jobId: string): boolean {
    return this.manager.cancel(jobId);
  }

  async stopAllJobs(): Promise<void> {
    this.manager.stopAll();
    await this.manager.waitAll().catch(() => undefined);
  }

  jobEvents(signal?: AbortSignal): AsyncIterable<JobEvent> {
    return this.manager.events(signal);
  }

  async listReports(query: { since?: Date; limit?: number } = {}): Promise<JobReport[]> {
    const out: JobReport[] = [];
    for await (const r of this.reports.select(query.since ? { since: query.since } : {})) {
      if (query.limit !== undefined && out.length >= query.limit) break;
      out.push(r);
    }
    return out;
  }

  historyPage(query: ReportFilter & { cursor?: number | undefined; limit: number }): Promise<HistoryPage> {
    return this.reports.page(query);
  }

  reportsMatching(filter: ReportFilter): AsyncIterable<JobReport> {
    return this.reports.select(filter);
  }

  async interruptedJobs(): Promise<InterruptedJob[]> {
    return (await this.manager.interrupted()).map((j) => ({
      jobId: j.start.jobId,
      deviceId: j.start.deviceId,
      package: j.start.package,
      serial: j.plan?.serial,
      stoppedDuring: j.lastStage ?? 'preflight',
    }));
  }

  async resumeInterrupted(jobId: string): Promise<string> {
    const job = await this.#interrupted(jobId);
    const path = job.start.package.path;
    if (!path) {
      throw new FlashlineError(
        'not_found',
        'The journal does not name the package file; start the job again.',
      );
    }
    const pkg = await this.openPackage(path);
    if (pkg.sha256 !== job.start.package.sha256) {
      throw new FlashlineError(
        'package_changed',
        `The package file ${path} is no longer the one job ${jobId} was started with; close the job and start it again.`,
      );
    }
    return this.manager.start({ deviceId: job.start.deviceId, pkg, packagePath: path, resume: job });
  }

  async discardInterrupted(jobId: string): Promise<number> {
    return (await this.manager.failInterrupted(await this.#interrupted(jobId))).status;
  }

  packagesInUse(): Set<string> {
    const paths = new Set<string>();
    if (this.#autoFlash) paths.add(this.#autoFlash.packagePath);
    for (const j of this.manager.list()) {
      if (j.packagePath && j.state !== 'done' && j.state !== 'failed') paths.add(j.packagePath);
    }
    return paths;
  }

  async #interrupted(jobId: string): Promise<JournalState> {
    const job = (await this.manager.interrupted()).find((j) => j.start.jobId === jobId);
    if (!job) throw new FlashlineError('not_found', `No interrupted job ${jobId}.`);
    return job;
  }
  // --- end of the API's job methods ---
}
