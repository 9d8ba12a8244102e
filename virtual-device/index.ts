/**
 * Programmatic API of the virtual device (for the CLI, the demo, the flash engine's tests and benchmarks).
 *
 *   const vd = await startVirtualDevice({ faults: { badBoot: ['b'] } });
 *   // fastboot -s vd.address …, or vd.connect() for an in-process link
 *   await vd.stop();
 *
 *   const phone = await startVirtualDevice({ profile: 'stock-android' });
 *   // in Android: openAdb(phone.adbAddress, …) ('adb:127.0.0.1:PORT'); after reboot:bootloader, fastboot on
 *   // phone.address; it commits a good boot by itself (android.markSuccessfulMs after boot_completed)
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlashlineError } from '../main/common/errors.js';
import { VIRTUAL_PRODUCT_ID } from '../main/common/products.js';
import { VirtualDevice } from './device.js';
import type { SessionOptions } from './fastboot-session.js';
import type { Faults } from './faults.js';
import { OtaAgent } from './ota/agent.js';
import { checkOtaOptions, type OtaAgentOptions } from './ota/options.js';
import {
  type AndroidTimings,
  DEVICE_PROFILES,
  type DeviceProfile,
  type DynamicPartitionsConfig,
  isDeviceProfile,
} from './profiles.js';
import { VirtualDeviceHandle } from './runner.js';
import type { PartitionSpec } from './state-store.js';

export { CommandFailure, VirtualDevice } from './device.js';
export { type SessionEnd, serveFastboot } from './fastboot-session.js';
export {
  type Faults,
  POWER_LOSS_STAGES,
  PowerCutError,
  type PowerLossFault,
  parsePowerLoss,
} from './faults.js';
export {
  IMAGE_HEADER_SIZE,
  type ImageMetadata,
  makeVirtualImage,
  parseImageHeader,
} from './image-metadata.js';
export { createDuplexPair } from './in-process.js';
export { OtaAgent, type OtaPollResult } from './ota/agent.js';
export type { OtaAgentOptions } from './ota/options.js';
export {
  type AndroidTimings,
  DEVICE_PROFILES,
  type DeviceProfile,
  type DynamicPartitionsConfig,
  type RebootTarget,
} from './profiles.js';
export { VirtualDeviceHandle } from './runner.js';
export { DEFAULT_PARTITIONS, type PartitionSpec, type Slot } from './state-store.js';

export const DEFAULT_MAX_DOWNLOAD_SIZE = 256 * 1024 * 1024;
/** Default size of a dynamic-partitions phone's physical `super` (a sparse file: only written bytes use disk). */
export const DEFAULT_SUPER_SIZE = 256 * 1024 * 1024;
export const DEFAULT_MAX_RETRIES = 3;

export interface VirtualDeviceOptions {
  /**
   * What the device plays (default `reference`, today's device). `stock-android` starts booted into Android
   * with ADB on `adb`; its fastboot port listens only in the bootloader (see profiles.ts). `sink` is the
   * reference device discarding what it receives (benchmarks; pace it with `faults.rateBytesPerSecond`).
   */
  readonly profile?: DeviceProfile;
  /**
   * stock-android: the ADB TCP listener (`handle.adbAddress`). Default host: the fastboot host; default port:
   * the fastboot port + 1 when that is fixed, else any free port.
   */
  readonly adb?: { readonly host?: string; readonly port?: number };
  /**
   * stock-android: host public keys (`adbkey.pub` lines) the phone accepts. Undefined = any key (as if its
   * owner tapped "Allow"); an empty list refuses every host.
   */
  readonly adbAuthorizedKeys?: readonly string[];
  /**
   * stock-android: a phone with dynamic partitions — `system`, `vendor`, `product` (both slots) are logical
   * partitions in one physical `super` (liblp metadata), flashed in fastbootd (`reboot fastboot`). `true` or
   * `{ superSize }` (bytes, default DEFAULT_SUPER_SIZE). Fixed when the state directory is created.
   */
  readonly dynamicPartitions?: boolean | { readonly superSize?: number };
  /** stock-android: boot_completed and self-commit delays (tests shorten them). */
  readonly android?: AndroidTimings;
  /** State directory; a fresh temp directory (removed on stop) when absent. */
  readonly stateDir?: string;
  readonly product?: string;
  readonly serial?: string;
  readonly hardwareRevision?: string;
  /** TCP listener (default 127.0.0.1, port 0 = any free port); false for none. */
  readonly tcp?: { readonly host?: string; readonly port?: number } | false;
  /** Also serve on a socat pty pair (`handle.ptyPath` is the host end). */
  readonly pty?: boolean;
  /** Storage capacity in bytes (default: the sum of all partition sizes). */
  readonly capacity?: number;
  readonly partitions?: readonly PartitionSpec[];
  readonly maxDownloadSize?: number;
  readonly maxRetries?: number;
  readonly bootloaderVersion?: string;
  /** Percent, 0-100 (default 100). */
  readonly batteryLevel?: number;
  /** Version in the factory boot image of both slots (default 1.0.0). */
  readonly factoryVersion?: string;
  /** Time the device is away during a reboot or after a power cut (default 300 ms). */
  readonly bootDelayMs?: number;
  readonly faults?: Faults;
  readonly session?: Omit<SessionOptions, 'signal'>;
  /** Run an OTA agent that polls an update repository and updates this device itself (docs/ota.md). */
  readonly ota?: OtaAgentOptions;
}

function check(ok: boolean, message: string): void {
  if (!ok) throw new FlashlineError('bad_input', message);
}

export async function startVirtualDevice(options: VirtualDeviceOptions = {}): Promise<VirtualDeviceHandle> {
  const maxDownloadSize = options.maxDownloadSize ?? DEFAULT_MAX_DOWNLOAD_SIZE;
  check(
    Number.isSafeInteger(maxDownloadSize) && maxDownloadSize >= 4096 && maxDownloadSize <= 0xffffffff,
    `max-download-size ${maxDownloadSize} must be between 4096 and 4294967295 bytes`,
  );
  const batteryLevel = options.batteryLevel ?? 100;
  check(
    Number.isInteger(batteryLevel) && batteryLevel >= 0 && batteryLevel <= 100,
    'battery level must be 0-100',
  );
  const maxRetries = options.maxRetries ?? DEFAULT_MAX_RETRIES;
  check(Number.isInteger(maxRetries) && maxRetries >= 1 && maxRetries <= 15, 'max retries must be 1-15');
  check(
    options.capacity === undefined || (Number.isSafeInteger(options.capacity) && options.capacity > 0),
    'capacity must be a positive number of bytes',
  );
  const profile = options.profile ?? 'reference';
  check(isDeviceProfile(profile), `profile '${profile}' is not one of ${DEVICE_PROFILES.join(', ')}`);
  check(
    profile === 'stock-android' || (options.adb === undefined && options.adbAuthorizedKeys === undefined),
    'ADB options need the stock-android profile (the reference device has no ADB)',
  );
  const dynamicPartitions = dynamicPartitionsConfig(options, profile);
  for (const [name, ms] of Object.entries(options.android ?? {}))
    check(Number.isInteger(ms) && ms >= 0 && ms <= 600_000, `android.${name} ${ms} must be 0-600000 ms`);
  const ota = options.ota ? checkOtaOptions(options.ota) : undefined;
  const stateDir = options.stateDir ?? (await fs.mkdtemp(join(tmpdir(), 'flashline-vd-')));
  const device = new VirtualDevice({
    profile,
    stateDir,
    product: options.product ?? VIRTUAL_PRODUCT_ID,
    serial: options.serial ?? `FLV${randomBytes(4).toString('hex').toUpperCase()}`,
    hardwareRevision: options.hardwareRevision ?? 'rev-1',
    capacity: options.capacity,
    partitions: options.partitions,
    maxDownloadSize,
    maxRetries,
    bootloaderVersion: options.bootloaderVersion ?? '1.0.0',
    batteryLevel,
    factoryVersion: options.factoryVersion ?? '1.0.0',
    faults: options.faults ?? {},
    dynamicPartitions,
  });
  const tcp =
    options.tcp === false ? false : { host: options.tcp?.host ?? '127.0.0.1', port: options.tcp?.port ?? 0 };
  const handle = new VirtualDeviceHandle(device, {
    tcp,
    adb: profile === 'stock-android' ? adbListener(options, tcp) : false,
    adbAuthorizedKeys: options.adbAuthorizedKeys,
    android: options.android ?? {},
    pty: options.pty ?? false,
    bootDelayMs: options.bootDelayMs ?? 300,
    session: options.session,
    removeStateOnStop: options.stateDir === undefined,
  });
  try {
    await handle.start();
    if (ota) handle.attachOta(new OtaAgent(handle, ota));
  } catch (err) {
    await handle.stop().catch(() => {});
    throw err;
  }
  return handle;
}

function dynamicPartitionsConfig(
  options: VirtualDeviceOptions,
  profile: DeviceProfile,
): DynamicPartitionsConfig | undefined {
  const dp = options.dynamicPartitions;
  if (dp === undefined || dp === false) return undefined;
  check(profile === 'stock-android', 'dynamic partitions need the stock-android profile');
  check(options.partitions === undefined, 'dynamic partitions come with their own partition table');
  const superSize = (dp === true ? undefined : dp.superSize) ?? DEFAULT_SUPER_SIZE;
  check(
    Number.isSafeInteger(superSize) && superSize >= 16 * 1024 * 1024 && superSize % 4096 === 0,
    `super size ${superSize} must be a multiple of 4096 bytes, at least 16 MiB`,
  );
  return { superSize };
}

/** Where a stock phone's ADB listens: `adb` when given, else beside its fastboot port. */
function adbListener(
  options: VirtualDeviceOptions,
  tcp: { host: string; port: number } | false,
): { host: string; port: number } {
  const host = options.adb?.host ?? (tcp ? tcp.host : '127.0.0.1');
  const port = options.adb?.port ?? (tcp && tcp.port > 0 ? tcp.port + 1 : 0);
  check(Number.isInteger(port) && port >= 0 && port <= 65535, `ADB port ${port} must be 0-65535`);
  check(
    !tcp || port === 0 || port !== tcp.port || host !== tcp.host,
    'the ADB and fastboot ports must differ',
  );
  return { host, port };
}

/**
 * Start `count` devices with distinct serials; with a fixed TCP port they take consecutive ports (stock
 * phones take two each: fastboot, then ADB), and with a state directory each gets its own sub-directory
 * (`device-1`, `device-2`, …). A fixed `adb` port is likewise counted up per device.
 */
export async function startVirtualDevices(
  count: number,
  options: VirtualDeviceOptions = {},
): Promise<VirtualDeviceHandle[]> {
  check(Number.isInteger(count) && count >= 1 && count <= 64, `device count ${count} must be 1-64`);
  const handles: VirtualDeviceHandle[] = [];
  const step = options.profile === 'stock-android' && !options.adb?.port ? 2 : 1;
  try {
    for (let i = 0; i < count; i++) {
      const tcp =
        options.tcp === false
          ? false
          : {
              host: options.tcp?.host ?? '127.0.0.1',
              port: options.tcp?.port ? options.tcp.port + step * i : 0,
            };
      const adb = options.adb?.port ? { ...options.adb, port: options.adb.port + i } : options.adb;
      handles.push(
        await startVirtualDevice({
          ...options,
          tcp,
          adb,
          stateDir:
            options.stateDir && count > 1 ? join(options.stateDir, `device-${i + 1}`) : options.stateDir,
          serial: options.serial && count > 1 ? `${options.serial}-${i + 1}` : options.serial,
        }),
      );
    }
  } catch (err) {
    await Promise.all(handles.map((h) => h.stop().catch(() => {})));
    throw err;
  }
  return handles;
}

export {
  type BootedDevice,
  type BootHook,
  DEFAULT_OEM_PK_HASH,
  EdlDeviceHandle,
  type EdlDeviceOptions,
  fastbootSerialOf,
} from './edl/edl-device.js';
export { makeRescueDir, RESCUE_PROGRAMMER_NAME, type RescueDirResult } from './edl/rescue-dir.js';
export { ZteAfterSwitch, type ZteAfterSwitchOptions, zteEdlPtyPath } from './modem/zte-download-mode.js';
export { ZTE_MIFI_IDENTITY, ZteMifiDevice, type ZteMifiOptions } from './modem/zte-mifi.js';
