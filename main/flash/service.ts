/**
 * The flash service a composition root builds once: a job manager wired to the real fastboot connector,
 * the journal and report history under flashlineHome(), the station's rollback record, and a cache of
 * opened (verified) packages. The API, the CLI and the demo all use this one object.
 */
import { join } from 'node:path';
import { flashlineHome } from '../common/paths.js';
import { StationRollbackStore } from '../package/index.js';
import { FastbootConnector } from './adapters/fastboot.js';
import { openFlashPackage } from './adapters/package.js';
import { type AutoFlashOptions, startAutoFlash } from './auto-flash.js';
import { DEFAULT_ENGINE_OPTIONS, type EngineOptions } from './context.js';
import { FlashManager } from './manager.js';
import type { DeviceConnector, FlashPackage } from './ports.js';
import { ReportStore } from './report-store.js';
import type { FlashServiceApi, PackageSummary } from './service-api.js';

export interface FlashServiceOptions {
  readonly home?: string;
  readonly concurrency?: number;
  readonly trustDirs?: readonly string[];
  readonly connector?: DeviceConnector;
  readonly engine?: Partial<Omit<EngineOptions, 'journalDir'>>;
}

export class FlashService implements FlashServiceApi {
  readonly manager: FlashManager;
  readonly reports: ReportStore;
  readonly journalDir: string;
  readonly #trustDirs: readonly string[] | undefined;
  readonly #packages = new Map<string, FlashPackage>();
  #autoFlash: { stop: () => void; packagePath: string } | undefined;

  constructor(options: FlashServiceOptions = {}) {
    const home = options.home ?? flashlineHome();
    this.journalDir = join(home, 'journal');
    this.reports = new ReportStore(join(home, 'reports'));
    this.#trustDirs = options.trustDirs;
    this.manager = new FlashManager({
      concurrency: options.concurrency ?? 4,
      connector: options.connector ?? new FastbootConnector(),
      reports: this.reports,
      engine: {
        ...DEFAULT_ENGINE_OPTIONS,
        rollbackRecord: new StationRollbackStore(join(home, 'rollback.json')),
        ...options.engine,
        journalDir: this.journalDir,
      },
    });
  }

  /** Open and verify a package (signature, trust, structure); cached by path for this process. */
  async openPackage(path: string): Promise<FlashPackage> {
    const cached = this.#packages.get(path);
    if (cached) return cached;
    const { pkg } = await openFlashPackage(path, this.#trustDirs ? { trustDirs: this.#trustDirs } : {});
    this.#packages.set(path, pkg);
    return pkg;
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
  ): Promise<{ enabled: boolean; packagePath: string | null }> {
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
}
