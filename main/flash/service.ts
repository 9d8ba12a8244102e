/**
 * The flash service a composition root builds once: a job manager wired to the real fastboot connector,
 * the journal and report history under flashlineHome(), the station's rollback record, and a cache of
 * opened (verified) packages. The API, the CLI and the demo all use this one object.
 */
import { join } from 'node:path';
import { flashlineHome } from '../common/paths.js';
import type { DiskIo } from '../common/station-storage.js';
import { StationRollbackStore } from '../package/index.js';
import { FastbootConnector } from './adapters/fastboot.js';
import { openFlashPackage } from './adapters/package.js';
import { type AutoFlashOptions, startAutoFlash } from './auto-flash.js';
import { DEFAULT_ENGINE_OPTIONS, type EngineOptions } from './context.js';
import { FlashManager, type FlashManagerOptions } from './manager.js';
import type { DeviceConnector } from './ports.js';
import { ReportStore, type RetentionPolicy, retentionFromEnv } from './report-store.js';
import type { AutoFlashState, FlashServiceApi, OpenedPackage, PackageSummary } from './service-api.js';

export interface FlashServiceOptions {
  readonly home?: string;
  readonly concurrency?: number;
  readonly trustDirs?: readonly string[];
  readonly connector?: DeviceConnector;
  readonly engine?: Partial<Omit<EngineOptions, 'journalDir'>>;
  /** Report retention (default 90 days / 100,000 reports; FLASHLINE_RETENTION_DAYS / _REPORTS override). */
  readonly retention?: Partial<RetentionPolicy>;
  /** How many finished jobs the job list keeps, and for how long. */
  readonly keepFinished?: FlashManagerOptions['keepFinished'];
  /** File operations of the journal and report store (tests inject failing ones). */
  readonly disk?: DiskIo;
}

export class FlashService implements FlashServiceApi {
  readonly manager: FlashManager;
  readonly reports: ReportStore;
  readonly journalDir: string;
  readonly #trustDirs: readonly string[] | undefined;
  readonly #packages = new Map<string, OpenedPackage>();
  #autoFlash: { stop: () => void; packagePath: string } | undefined;

  constructor(options: FlashServiceOptions = {}) {
    const home = options.home ?? flashlineHome();
    this.journalDir = join(home, 'journal');
    this.reports = ReportStore.forHome(home, {
      retention: { ...retentionFromEnv(), ...options.retention },
      ...(options.disk ? { disk: options.disk } : {}),
    });
    this.#trustDirs = options.trustDirs;
    this.manager = new FlashManager({
      concurrency: options.concurrency ?? 4,
      connector: options.connector ?? new FastbootConnector(),
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
  }

  /** Open and verify a package (signature, trust, structure); cached by path for this process. */
  async openPackage(path: string): Promise<OpenedPackage> {
    const cached = this.#packages.get(path);
    if (cached) return cached;
    const { pkg, verified } = await openFlashPackage(
      path,
      this.#trustDirs ? { trustDirs: this.#trustDirs } : {},
    );
    const m = verified.manifest;
    // Kept from the one verifying read, so no caller reads the head a second time.
    const opened: OpenedPackage = {
      ...pkg,
      signerKeyIds: verified.signers.map((s) => s.keyId),
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

  /** Start one job per device; returns the job ids in the same order. */
  async flash(packagePath: string, deviceIds: readonly string[]): Promise<string[]> {
    const pkg = await this.openPackage(packagePath);
    const interrupted = await this.manager.interrupted();
    return deviceIds.map((deviceId) => {
      // An interrupted job for the same device and package is resumed rather than started over.
      const resume = interrupted.find(
        (j) => j.start.deviceId === deviceId && j.start.package.sha256 === pkg.sha256,
      );
      return this.manager.start({ deviceId, pkg, packagePath, ...(resume ? { resume } : {}) });
    });
  }

  async setAutoFlash(
    registry: AutoFlashOptions['registry'],
    packagePath: string | null,
    force = false,
  ): Promise<AutoFlashState> {
    this.#autoFlash?.stop();
    this.#autoFlash = undefined;
    if (packagePath === null) return { enabled: false, packagePath: null };
    const pkg = await this.openPackage(packagePath);
    const stop = await startAutoFlash({
      registry,
      manager: this.manager,
      pkg,
      packagePath,
      reports: this.reports,
      force,
    });
    this.#autoFlash = { stop, packagePath };
    return { enabled: true, packagePath };
  }

  getAutoFlash(): AutoFlashState {
    return this.#autoFlash
      ? { enabled: true, packagePath: this.#autoFlash.packagePath }
      : { enabled: false, packagePath: null };
  }
}
