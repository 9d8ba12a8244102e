/**
 * What the API needs from the running service. Composition roots (main/station, main/cli, electron/)
 * build one of these and hand it to the router; tests build one with fakes.
 */
import type { DeviceRegistry } from '../devices/registry.js';
import type { FlashServiceApi } from '../flash/service-api.js';
import type { CatalogService } from '../repo/catalog.js';
import type { FleetContext } from './fleet-context.js';
import type { RescueServiceApi } from './rescue-jobs.js';

export interface ServiceContext {
  readonly version: string;
  /** 'desktop' (Electron IPC) or 'station' (WebSocket on loopback). */
  readonly mode: 'desktop' | 'station';
  readonly devices: DeviceRegistry;
  /** Whether virtual demo devices are running in this process (for the empty-state hint). */
  readonly demo: boolean;
  /** The flash engine (jobs, packages, reports); absent where flashing is not offered. */
  readonly flash?: FlashServiceApi;
  /** Rescue jobs for devices in EDL (rescue-router.ts); absent where rescue is not offered. */
  readonly rescue?: RescueServiceApi;
  /** The Catalog (update repositories this station trusts, downloads into its cache); absent: not offered. */
  readonly catalog?: Pick<CatalogService, 'sources' | 'catalog' | 'start' | 'list' | 'events'>;
  /** Where clients may name package files (a remote station's package folders); absent: anywhere. */
  readonly packagePaths?: PackagePathPolicy;
  /** The fleet view's sources (live bus, central history); absent on a station outside a fleet. */
  readonly fleet?: FleetContext;
}

/** Decides whether a client may have the service read a package file at `path`. */
export interface PackagePathPolicy {
  /** Resolves when allowed; throws a FlashlineError saying where packages may be otherwise. */
  check(path: string): Promise<void>;
}
