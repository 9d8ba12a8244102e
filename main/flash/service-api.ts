/**
 * What the API sees of the flash service. Kept apart from service.ts so the API contract (and the
 * renderer's type-only view of it) never pulls in transports or native backends.
 */
import type { AutoFlashOptions } from './auto-flash.js';
import type { FlashManager } from './manager.js';
import type { FlashPackage } from './ports.js';
import type { ReportStore } from './report-store.js';

export interface PackageSummary {
  readonly path: string;
  readonly id: string;
  readonly version: string;
  readonly products: readonly string[];
  readonly sha256: string;
  readonly rollbackIndex: number;
  readonly images: readonly { partition: string; size: number }[];
}

export interface FlashServiceApi {
  readonly manager: FlashManager;
  readonly reports: ReportStore;
  /** Open and verify a package (signature, trust, structure); cached by path. */
  openPackage(path: string): Promise<FlashPackage>;
  packages(): PackageSummary[];
  /** Start one job per device; returns the job ids in the same order. */
  flash(packagePath: string, deviceIds: readonly string[]): Promise<string[]>;
  /**
   * Auto-flash on connect: every newly connected supported device in `registry` gets the package; serials
   * already flashed with it are skipped unless `force`. `packagePath: null` turns it off.
   */
  setAutoFlash(
    registry: AutoFlashOptions['registry'],
    packagePath: string | null,
    force?: boolean,
  ): Promise<{ enabled: boolean; packagePath: string | null }>;
}
