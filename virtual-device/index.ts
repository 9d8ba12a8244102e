/**
 * Programmatic API of the virtual device (for the CLI, the demo, the flash engine's tests and benchmarks).
 *
 *   const vd = await startVirtualDevice({ faults: { badBoot: ['b'] } });
 *   // fastboot -s vd.address …, or vd.connect() for an in-process link
 *   await vd.stop();
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
export { VirtualDeviceHandle } from './runner.js';
export { DEFAULT_PARTITIONS, type PartitionSpec, type Slot } from './state-store.js';

export const DEFAULT_MAX_DOWNLOAD_SIZE = 256 * 1024 * 1024;
export const DEFAULT_MAX_RETRIES = 3;

export interface VirtualDeviceOptions {
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
  const stateDir = options.stateDir ?? (await fs.mkdtemp(join(tmpdir(), 'flashline-vd-')));
  const device = new VirtualDevice({
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
  });
  const tcp =
    options.tcp === false ? false : { host: options.tcp?.host ?? '127.0.0.1', port: options.tcp?.port ?? 0 };
  const handle = new VirtualDeviceHandle(device, {
    tcp,
    pty: options.pty ?? false,
    bootDelayMs: options.bootDelayMs ?? 300,
    session: options.session,
    removeStateOnStop: options.stateDir === undefined,
  });
  try {
    await handle.start();
  } catch (err) {
    await handle.stop().catch(() => {});
    throw err;
  }
  return handle;
}

/**
 * Start `count` devices with distinct serials; with a fixed TCP port they take consecutive ports, and with
 * a state directory each gets its own sub-directory (`device-1`, `device-2`, …).
 */
export async function startVirtualDevices(
  count: number,
  options: VirtualDeviceOptions = {},
): Promise<VirtualDeviceHandle[]> {
  check(Number.isInteger(count) && count >= 1 && count <= 64, `device count ${count} must be 1-64`);
  const handles: VirtualDeviceHandle[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const tcp =
        options.tcp === false
          ? false
          : { host: options.tcp?.host ?? '127.0.0.1', port: options.tcp?.port ? options.tcp.port + i : 0 };
      handles.push(
        await startVirtualDevice({
          ...options,
          tcp,
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
