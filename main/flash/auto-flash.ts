/**
 * Auto-flash on connect (factory line): every newly connected device of a product the package supports
 * gets a job; a unit already flashed with this package (by serial, from the report history or this
 * session) is skipped unless `force` is set.
 */
import type { DeviceInfo } from '../devices/device-info.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { FlashManager } from './manager.js';
import type { FlashPackage } from './ports.js';
import type { ReportStore } from './report-store.js';

export interface AutoFlashOptions {
  readonly registry: Pick<DeviceRegistry, 'subscribe' | 'list'>;
  readonly manager: FlashManager;
  readonly pkg: FlashPackage;
  readonly packagePath?: string;
  readonly reports?: ReportStore;
  readonly force?: boolean;
  /** Called for each device skipped, with the reason (for the UI/log). */
  readonly onSkip?: (device: DeviceInfo, reason: string) => void;
}

export async function startAutoFlash(options: AutoFlashOptions): Promise<() => void> {
  const flashed = options.force
    ? new Set<string>()
    : ((await options.reports?.flashedSerials(options.pkg.sha256)) ?? new Set<string>());
  const active = new Set<string>();
  const consider = (device: DeviceInfo) => {
    if (device.mode !== 'fastboot' || active.has(device.id)) return;
    if (!device.product || !options.pkg.products.includes(device.product)) {
      options.onSkip?.(device, `product ${device.product ?? 'unknown'} is not supported by the package`);
      return;
    }
    if (!options.force && device.serial && flashed.has(device.serial)) {
      options.onSkip?.(device, `serial ${device.serial} was already flashed with this package`);
      return;
    }
    let jobId: string;
    try {
      jobId = options.manager.start({
        deviceId: device.id,
        pkg: options.pkg,
        ...(options.packagePath ? { packagePath: options.packagePath } : {}),
      });
    } catch (err) {
      options.onSkip?.(device, err instanceof Error ? err.message : String(err));
      return;
    }
    active.add(device.id);
    void options.manager.wait(jobId).then(
      (report) => {
        active.delete(device.id);
        if (report.status === 0 && report.device.serial) flashed.add(report.device.serial);
      },
      () => active.delete(device.id),
    );
  };
  const unsubscribe = options.registry.subscribe((e) => {
    if (e.type === 'added') consider(e.device);
  });
  for (const d of options.registry.list()) consider(d);
  return unsubscribe;
}
