/**
 * Auto-flash (factory line): the one mechanism behind the station's switch and `flashline line`. It acts
 * on a device *becoming ready* (identified: product and serial known), never on first sight, and once per
 * presence: a unit's re-identification after its own job is not a new arrival; unplugging it (removed) or
 * losing it (gone, error) is, so a re-plugged unit is considered again. Policy per unit (by serial):
 *   - passed with this package before (report history or this run): skipped with a reason, unless `force`;
 *   - failed with this package in this run: skipped with a reason, unless `retryFailed` (or `force`);
 *   - left an interrupted job (journal without end) for this package: that job is resumed;
 *   - otherwise: a new job.
 */
import type { DeviceEvent, DeviceInfo } from '../devices/device-info.js';
import type { DeviceRegistry } from '../devices/registry.js';
import type { JournalState } from './journal.js';
import type { FlashManager } from './manager.js';
import type { FlashPackage } from './ports.js';
import type { JobReport } from './report.js';
import type { ReportStore } from './report-store.js';
import type { UnitClaims } from './unit-claims.js';

export interface AutoFlashOptions {
  /** Devices to watch; `markBusy`/`release`, when present, keep their life cycle in step with the jobs. */
  readonly registry: Pick<DeviceRegistry, 'subscribe' | 'list'> &
    Partial<Pick<DeviceRegistry, 'markBusy' | 'release'>> & {
      /** Every endpoint of the unit `id` leads (fastboot and ADB of one phone); the job follows its serial. */
      endpointsOf?(id: string): string[];
    };
  readonly manager: FlashManager;
  readonly pkg: FlashPackage;
  readonly packagePath?: string;
  readonly reports?: ReportStore;
  /** The fleet's unit claims: a unit another station holds for this package is skipped with its reason. */
  readonly unitClaims?: UnitClaims;
  /** Flash every ready unit, even one that already passed or failed with this package. */
  readonly force?: boolean;
  /** Flash a unit again when it comes back after failing with this package. */
  readonly retryFailed?: boolean;
  /** Interrupted jobs to resume when their unit comes back (default: the manager's). */
  readonly interrupted?: () => Promise<readonly JournalState[]>;
  /** Called for each device skipped, with the reason (for the UI/log). */
  readonly onSkip?: (device: DeviceInfo, reason: string) => void;
  /** Called for each job started, `resumed` when it continues an interrupted one. */
  readonly onStart?: (device: DeviceInfo, jobId: string, resumed: boolean) => void;
  /** Called when one of its jobs ends. */
  readonly onEnd?: (device: DeviceInfo, report: JobReport) => void;
}

/** Modes a job can start from: fastboot as it is, Android by rebooting it into its bootloader first. */
const FLASHABLE: readonly DeviceInfo['mode'][] = ['fastboot', 'fastbootd', 'android'];

export async function startAutoFlash(options: AutoFlashOptions): Promise<() => void> {
  const { pkg, manager, registry } = options;
  const passed = options.force
    ? new Set<string>()
    : ((await options.reports?.flashedSerials(pkg.sha256)) ?? new Set<string>());
  const failed = new Map<string, number>();
  const interrupted = [...((await (options.interrupted ?? (() => manager.interrupted()))()) ?? [])].filter(
    (j) => j.start.package.sha256 === pkg.sha256,
  );
  /** device id -> serial it was last considered with, for as long as that presence lasts. */
  const considered = new Map<string, string>();
  const active = new Set<string>();
  let stopped = false;

  const takeInterrupted = (device: DeviceInfo): JournalState | undefined => {
    const i = interrupted.findIndex((j) =>
      j.plan ? j.plan.serial === device.serial : j.start.deviceId === device.id,
    );
    return i === -1 ? undefined : interrupted.splice(i, 1)[0];
  };

  const skip = (device: DeviceInfo, reason: string) => options.onSkip?.(device, reason);

  const consider = (device: DeviceInfo) => {
    if (
      stopped ||
      device.state !== 'ready' ||
      device.sameAs !== undefined ||
      !FLASHABLE.includes(device.mode)
    )
      return;
    const serial = device.serial ?? '';
    if (active.has(device.id) || considered.get(device.id) === serial) return;
    // Not marked considered: once its owner taps "Allow", the phone's next ready event starts its job.
    if (device.authorization === 'unauthorized') {
      skip(device, device.note ?? 'USB debugging is not authorized for this station yet');
      return;
    }
    considered.set(device.id, serial);
    if (!device.product || !pkg.products.includes(device.product)) {
      skip(device, `product ${device.product ?? 'unknown'} is not supported by the package`);
      return;
    }
    const resume = takeInterrupted(device);
    if (!resume && !options.force && passed.has(serial)) {
      skip(device, `serial ${serial} already passed with this package (force to flash it again)`);
      return;
    }
    const failure = failed.get(serial);
    if (!resume && failure !== undefined && !options.force && !options.retryFailed) {
      skip(
        device,
        `serial ${serial} failed with this package (code ${failure}); retry-failed flashes it again`,
      );
      return;
    }
    const claims = resume ? undefined : options.unitClaims;
    if (!claims) {
      launch(device, serial, resume);
      return;
    }
    // Asked before the job exists so the line shows a skip, not a failure; held as active meanwhile so a
    // second ready event cannot start a second job. Two stations racing past this both reach the job's
    // own atomic claim, where exactly one wins.
    active.add(device.id);
    void claims.heldElsewhere(serial, pkg.sha256).then((why) => {
      active.delete(device.id);
      if (stopped || considered.get(device.id) !== serial) return;
      if (!why) return launch(device, serial, undefined);
      passed.add(serial);
      skip(device, why);
    });
  };

  const launch = (device: DeviceInfo, serial: string, resume: JournalState | undefined) => {
    let jobId: string;
    try {
      jobId = manager.start({
        deviceId: device.id,
        endpoints: registry.endpointsOf?.(device.id) ?? [device.id],
        pkg,
        ...(options.packagePath ? { packagePath: options.packagePath } : {}),
        ...(resume ? { resume } : {}),
      });
    } catch (err) {
      skip(device, err instanceof Error ? err.message : String(err));
      return;
    }
    active.add(device.id);
    registry.markBusy?.(device.id);
    options.onStart?.(device, jobId, resume !== undefined);
    void manager.wait(jobId).then(
      (report) => {
        active.delete(device.id);
        const unit = report.device.serial ?? serial;
        if (report.status === 0) {
          passed.add(unit);
          failed.delete(unit);
        } else failed.set(unit, report.status);
        options.onEnd?.(device, report);
        void registry.release?.(device.id);
      },
      () => active.delete(device.id),
    );
  };

  const onEvent = (e: DeviceEvent) => {
    if (e.type === 'ready') consider(e.device);
    else if (e.type === 'removed') considered.delete(e.id);
    else if (e.device.state === 'gone' || e.device.state === 'error') considered.delete(e.device.id);
  };
  const unsubscribe = registry.subscribe(onEvent);
  for (const d of registry.list()) consider(d);
  return () => {
    stopped = true;
    unsubscribe();
  };
}
