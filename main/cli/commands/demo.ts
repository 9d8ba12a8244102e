/**
 * `flashline demo` / `npm run demo`: virtual devices in this process, a signed demo package (shipped demo
 * key, scoped to the virtual product only) and station mode with the devices listed — a newcomer flashes
 * something within a minute. `--no-ui` flashes the demo devices from the terminal instead. Both kinds of
 * device are offered: reference devices (Flashline's, in fastboot) and stock Android phones (`--phones`,
 * starting in Android with ADB; same product id, so the demo key covers them too).
 * `startDemoRig` is also what the flash engine's integration tests and benchmarks build on.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import {
  type Faults,
  startVirtualDevice,
  type VirtualDeviceHandle,
  type VirtualDeviceOptions,
} from '../../../virtual-device/index.js';
import { FlashlineError } from '../../common/errors.js';
import { flashlineHome } from '../../common/paths.js';
import { DeviceRegistry, endpointSource, startDiscovery, tcpUnitEndpoints } from '../../devices/index.js';
import { FlashService } from '../../flash/service.js';
import { stationCatalog } from '../../station/catalog.js';
import { createService, runStation } from '../../station/run-station.js';
import { DEMO_PARTITIONS, type DemoPackageSpec, makeDemoPackage } from '../demo-package.js';
import { parseNonNegativeInt, parsePort, parsePositiveInt, untilInterrupted } from '../options.js';
import { runOtaDemo } from './demo-ota.js';
import { runFlash } from './flash.js';

function parseDbUrl(value: string): string {
  if (!/^postgres(ql)?:\/\//.test(value))
    throw new InvalidArgumentError(`'${value}' is not a database URL (postgres://USER@HOST:PORT/DB).`);
  return value;
}

// The demo package helpers live in their own module (no station, no Vite) so the USB VM bundle can use them.
export { DEMO_PARTITIONS, type DemoPackageSpec, makeDemoPackage };

const MiB = 1024 * 1024;

export interface DemoRigOptions {
  /** Reference devices (serials DEMO001, …). */
  readonly devices: number;
  /** Stock-android phones beside them (serials PHONE001, …; default 0). */
  readonly phones?: number;
  readonly dir: string;
  readonly faults?: (index: number) => Faults | undefined;
  readonly device?: Partial<VirtualDeviceOptions>;
  readonly pkg?: DemoPackageSpec;
}

export interface DemoRig {
  readonly packagePath: string;
  readonly devices: readonly VirtualDeviceHandle[];
  stop(): Promise<void>;
}

export async function startDemoRig(options: DemoRigOptions): Promise<DemoRig> {
  await fs.mkdir(options.dir, { recursive: true });
  const packagePath = await makeDemoPackage(join(options.dir, 'flashline-demo.flp'), options.pkg);
  const devices: VirtualDeviceHandle[] = [];
  const phones = options.phones ?? 0;
  try {
    for (let i = 0; i < options.devices + phones; i++) {
      const faults = options.faults?.(i);
      const phone = i >= options.devices;
      const n = String((phone ? i - options.devices : i) + 1).padStart(3, '0');
      devices.push(
        await startVirtualDevice({
          serial: phone ? `PHONE${n}` : `DEMO${n}`,
          partitions: DEMO_PARTITIONS,
          maxDownloadSize: 8 * MiB,
          bootDelayMs: 200,
          ...(phone ? { profile: 'stock-android' as const } : {}),
          ...options.device,
          ...(faults ? { faults } : {}),
        }),
      );
    }
  } catch (err) {
    await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
    throw err;
  }
  return {
    packagePath,
    devices,
    stop: async () => {
      await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
    },
  };
}

interface DemoOptions {
  devices: number;
  phones?: number;
  ui: boolean;
  port: number;
  json: boolean;
  ota: boolean;
  fleetDb?: string;
  otaInterval: number;
}

export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'start virtual devices and a signed demo package, then the station UI (or flash them with --no-ui)',
    )
    .option('--devices <n>', 'number of reference virtual devices (in fastboot)', parsePositiveInt, 3)
    .option(
      '--phones <n>',
      'stock Android phones beside them (start in Android, ADB + fastboot); default 1 with the UI, 0 with --no-ui',
      parseNonNegativeInt,
    )
    .option('--no-ui', 'flash the demo devices from the terminal and exit with the status code')
    .option('--port <n>', 'station port (0 picks a free one)', parsePort, 7480)
    .option('--json', 'with --no-ui: one JSON object per event line', false)
    .option(
      '--ota',
      'devices that update themselves over the air from a local repository, their codes and the rollout in the fleet view (docs/fleet.md)',
      false,
    )
    .option(
      '--fleet-db <url>',
      "with --ota: the fleet database (default: fleet.json's, else a throw-away PostgreSQL)",
      parseDbUrl,
    )
    .option('--ota-interval <seconds>', "with --ota: seconds between the agents' polls", parsePositiveInt, 10)
    .action(async (opts: DemoOptions) => {
      if (opts.ota) {
        if (!opts.ui)
          throw new FlashlineError('bad_input', '--ota shows its devices in the station UI; drop --no-ui.');
        process.exitCode = await runOtaDemo(opts);
        return;
      }
      process.exitCode = await runDemo(opts);
    });
}

async function runDemo(opts: DemoOptions): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const dir = join(flashlineHome(), 'demo');
  if (!opts.json) log('Starting virtual devices and signing the demo package…');
  // With --no-ui the exit code is the worst job's; phones join only when asked for there.
  const phones = opts.phones ?? (opts.ui ? 1 : 0);
  const rig = await startDemoRig({ devices: opts.devices, phones, dir });
  // A phone is one unit with two endpoints (ADB in Android, fastboot in the bootloader); flash groups them
  // by serial.
  const ids = rig.devices.flatMap((d) => (d.adbAddress ? [d.adbAddress, d.address] : [d.address]));
  try {
    if (!opts.ui) {
      return await runFlash(rig.packagePath, {
        device: ids,
        concurrency: Math.min(8, ids.length),
        json: opts.json,
      });
    }
    // Listen before the station starts: a stop that arrives while starting is a stop, not a crash.
    // (With --no-ui, runFlash handles the signals itself.)
    const interrupted = untilInterrupted(() => 'stopping the demo; running jobs stop safely');
    const registry = new DeviceRegistry();
    // Every way into each device: its fastboot port and, for a phone, its ADB port (one unit by serial).
    const discovery = await startDiscovery(registry, [
      endpointSource(
        rig.devices.flatMap((d) => tcpUnitEndpoints(d, 'virtual')),
        { name: 'virtual', pollIntervalMs: 2000 },
      ),
    ]);
    const flash = new FlashService({ concurrency: 8, devices: registry });
    await flash.openPackage(rig.packagePath);
    const station = await runStation({
      host: '127.0.0.1',
      port: opts.port,
      allowRemote: false,
      log,
      service: createService({
        devices: registry,
        demo: true,
        flash,
        catalog: stationCatalog(flashlineHome(), flash),
      }),
    });
    process.stdout.write(
      [
        '',
        'Flashline demo is running.',
        `  Open ${station.url}`,
        `  Devices: ${rig.devices.map((d) => (d.adbAddress ? `${d.serial} (stock Android phone: ${d.adbAddress}, ${d.address} in the bootloader)` : d.address)).join(', ')}`,
        `  Package: ${rig.packagePath} (signed with the demo key; valid for virtual devices only)`,
        '',
        'Or flash from another terminal:',
        `  node bin/flashline.js flash ${rig.packagePath} ${ids.map((i) => `--device ${i}`).join(' ')}`,
        '',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    await interrupted;
    await flash.stopAllJobs();
    discovery.stop();
    await station.close();
    return 0;
  } finally {
    await rig.stop();
  }
}
