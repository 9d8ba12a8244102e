/**
 * An in-process station for the UI tests: virtual devices (with per-device faults), a signed demo package,
 * the flash service and `startStation` serving the built renderer — the same composition as
 * `flashline demo`, with small images and short boot delays so a whole job takes well under a second of
 * device time. The browser is a separate process and talks to it over real HTTP and WebSocket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DemoRig, startDemoRig } from '../../main/cli/commands/demo.js';
import {
  DeviceRegistry,
  endpointSource,
  startDiscovery,
  tcpEndpoint,
  tcpUnitEndpoints,
} from '../../main/devices/index.js';
import { FlashService } from '../../main/flash/service.js';
import { stationCatalog } from '../../main/station/catalog.js';
import { ensureRendererBuilt } from '../../main/station/renderer-assets.js';
import { createService } from '../../main/station/run-station.js';
import { type Station, startStation } from '../../main/station/server.js';
import {
  type Faults,
  startVirtualDevice,
  type VirtualDeviceHandle,
  type VirtualDeviceOptions,
} from '../../virtual-device/index.js';

const KiB = 1024;

/** Small images and short boot delays, so a whole job takes well under a second of device time. */
const DEVICE: Partial<VirtualDeviceOptions> = {
  partitions: [
    { name: 'boot', size: 256 * KiB, slotted: true },
    { name: 'system', size: 512 * KiB, slotted: true },
    { name: 'misc', size: 64 * KiB, slotted: false },
  ],
  maxDownloadSize: 256 * KiB,
  bootDelayMs: 50,
};

/** A stock phone's Android side, quick: boot completes and the slot is committed within a moment. */
const PHONE_TIMINGS = { bootCompletedMs: 50, markSuccessfulMs: 100 };

export interface UiRig {
  readonly station: Station;
  readonly demo: DemoRig;
  readonly registry: DeviceRegistry;
  readonly flash: FlashService;
  readonly home: string;
  /**
   * Plug in late device `index` (0-based, of `lateDevices`): it starts on the port the station has been
   * polling since the start, as a unit plugged in while the station runs. Serial `LATE001`, `LATE002`, …
   */
  plugIn(index: number): Promise<VirtualDeviceHandle>;
  stop(): Promise<void>;
}

/** A free loopback TCP port, for an endpoint whose device is not there yet. */
async function reservePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

export async function startUiRig(options: {
  readonly devices: number;
  readonly faults?: (index: number) => Faults | undefined;
  /** Endpoints watched from the start whose devices are plugged in later with `plugIn`. */
  readonly lateDevices?: number;
  /**
   * Stock-android phones after the reference devices (serials PHONE001, …): they start in Android, and the
   * station watches both of their ways in, ADB and fastboot (which listens only in the bootloader).
   */
  readonly phones?: number;
  /** More virtual-device options for every device (e.g. `adbAuthorizedKeys` for phones-only rigs). */
  readonly device?: Partial<VirtualDeviceOptions>;
}): Promise<UiRig> {
  const staticDir = await ensureRendererBuilt(() => {});
  const home = await mkdtemp(join(tmpdir(), 'flashline-e2e-ui-'));
  const demo = await startDemoRig({
    devices: options.devices,
    phones: options.phones ?? 0,
    dir: join(home, 'demo'),
    ...(options.faults ? { faults: options.faults } : {}),
    device: { ...DEVICE, ...(options.phones ? { android: PHONE_TIMINGS } : {}), ...options.device },
    pkg: { bootSize: 128 * KiB, systemSize: 384 * KiB },
  });
  const latePorts: number[] = [];
  for (let i = 0; i < (options.lateDevices ?? 0); i++) latePorts.push(await reservePort());
  const late: VirtualDeviceHandle[] = [];
  const registry = new DeviceRegistry();
  const adbKeys = join(home, 'adb');
  const discovery = await startDiscovery(registry, [
    endpointSource(
      [
        ...demo.devices.flatMap((d) => tcpUnitEndpoints(d, 'virtual', { keyDir: adbKeys })),
        ...latePorts.map((port) => tcpEndpoint({ host: '127.0.0.1', port }, 'virtual')),
      ],
      { name: 'virtual', pollIntervalMs: 300 },
    ),
  ]);
  // As the station composes it (main/station/live-service.ts): jobs keep the registry's life cycle in step.
  const flash = new FlashService({ home, concurrency: 8, devices: registry });
  const station = await startStation({
    host: '127.0.0.1',
    port: 0,
    staticDir,
    uploadDir: join(home, 'uploads'),
    uploadLimitBytes: 4 * 1024 * 1024,
    service: createService({ devices: registry, demo: true, flash, catalog: stationCatalog(home, flash) }),
  });
  return {
    station,
    demo,
    registry,
    flash,
    home,
    async plugIn(index) {
      const port = latePorts[index];
      if (port === undefined) throw new Error(`no late device ${index}`);
      const handle = await startVirtualDevice({
        ...DEVICE,
        serial: `LATE${String(index + 1).padStart(3, '0')}`,
        tcp: { host: '127.0.0.1', port },
      });
      late.push(handle);
      return handle;
    },
    async stop() {
      flash.manager.cancelAll();
      await flash.manager.waitAll().catch(() => undefined);
      discovery.stop();
      await station.close();
      await demo.stop();
      await Promise.all(late.map((d) => d.stop().catch(() => undefined)));
      await rm(home, { recursive: true, force: true });
    },
  };
}
