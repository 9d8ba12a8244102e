/**
 * The simulated Android of a stock phone, as its ADB server sees it (AdbDeviceHandler): banner, properties,
 * shell, reboot targets — plus its life after boot: `sys.boot_completed` turns 1 a moment after Android
 * starts, and a moment later the phone commits the booted slot by itself (update_verifier's job on a real
 * phone), which also raises the rollback index as the reference device's `oem mark-successful` does.
 * The runner (runner.ts) calls started() after every boot into Android and stopped() whenever it goes down.
 */
import type { AdbDeviceHandler, ShellAnswer } from './adb/device-handler.js';
import { androidProperties } from './android-props.js';
import { runShell } from './android-shell.js';
import type { VirtualDevice } from './device.js';
import type { AndroidTimings, RebootTarget } from './profiles.js';

/**
 * ADB reboot targets the phone simulates: '' (Android again), the bootloader, and `fastboot` (fastbootd) on a
 * phone with dynamic partitions.
 */
export function rebootInto(target: string, hasFastbootd = false): RebootTarget {
  if (target === '') return 'os';
  if (target === 'bootloader') return 'bootloader';
  if (target === 'fastboot' && hasFastbootd) return 'fastboot';
  const what =
    target === 'fastboot' ? 'fastbootd (a phone started with dynamic partitions has it)' : 'recovery';
  throw new Error(
    `reboot to '${target}' is not simulated by the virtual phone (${what}; issue #13); use 'adb reboot' or 'adb reboot bootloader'`,
  );
}

export class AndroidSide implements AdbDeviceHandler {
  #bootCompleted = false;
  #timers: NodeJS.Timeout[] = [];

  constructor(
    readonly device: VirtualDevice,
    readonly timings: AndroidTimings,
    /** Called when the self-commit fails (the runner reports it; the phone keeps running). */
    readonly onProblem: (message: string) => void = () => {},
  ) {}

  get bootCompleted(): boolean {
    return this.#bootCompleted;
  }

  state(): 'device' {
    return 'device';
  }

  bannerProperties(): Record<string, string> {
    const p = androidProperties(this.device, this.#bootCompleted);
    return {
      'ro.product.name': p.get('ro.product.name') ?? '',
      'ro.product.model': p.get('ro.product.model') ?? '',
      'ro.product.device': p.get('ro.product.device') ?? '',
    };
  }

  properties(): Map<string, string> {
    return androidProperties(this.device, this.#bootCompleted);
  }

  shell(command: string): ShellAnswer {
    return runShell(command, {
      properties: () => this.properties(),
      bootControl: () => this.device.bootControl,
      bootedSlot: () => this.device.bootedSlot,
    });
  }

  /** Validates the target (throws for one the phone does not simulate); the runner performs the reboot. */
  reboot(target: string): void {
    rebootInto(target, this.device.hasFastbootd);
  }

  /** Android just started: boot_completed after a moment, then the self-commit of the booted slot. */
  started(): void {
    this.stopped();
    const completedMs = this.timings.bootCompletedMs ?? 300;
    const commitMs = this.timings.markSuccessfulMs ?? 1000;
    this.#later(completedMs, () => {
      this.#bootCompleted = true;
      this.#later(commitMs, () => void this.#commit());
    });
  }

  /** Android went down (reboot, power cut, stop): forget the boot and cancel what was pending. */
  stopped(): void {
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
    this.#bootCompleted = false;
  }

  #later(ms: number, fn: () => void): void {
    const t = setTimeout(() => {
      this.#timers = this.#timers.filter((x) => x !== t);
      fn();
    }, ms);
    t.unref();
    this.#timers.push(t);
  }

  async #commit(): Promise<void> {
    const d = this.device;
    await d
      .exclusive(async () => {
        const slot = d.bootedSlot;
        if (d.mode !== 'os' || !slot || d.bootControl.slots[slot].successful) return;
        await d.markSuccessful();
      })
      .catch((err: unknown) => {
        // e.g. the slot was rewritten over fastboot since it booted: a real phone would not commit it either.
        this.onProblem(`slot not marked successful: ${err instanceof Error ? err.message : String(err)}`);
      });
  }
}
