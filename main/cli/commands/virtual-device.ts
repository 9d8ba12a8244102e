/**
 * `flashline virtual-device`: run one or more virtual devices that speak fastboot over TCP and/or a pty.
 * Composition root: the only place (with the demo) where the CLI reaches into virtual-device/.
 */
import { type Command, InvalidArgumentError } from 'commander';
import {
  type Faults,
  type PowerLossFault,
  parsePowerLoss,
  type Slot,
  startVirtualDevices,
} from '../../../virtual-device/index.js';
import { TCP_DEFAULT_PORT } from '../../protocol/fastboot/tcp-framing.js';
import {
  collect,
  parseHostPort,
  parseNonNegativeInt,
  parsePositiveInt,
  untilInterrupted,
} from '../options.js';

function parseSlot(value: string): Slot {
  if (value === 'a' || value === 'b') return value;
  throw new InvalidArgumentError(`'${value}' is not a slot (a or b).`);
}

function parsePowerLossOption(value: string): PowerLossFault {
  try {
    return parsePowerLoss(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

function parsePercent(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n > 100) throw new InvalidArgumentError(`'${value}' is not a percentage (0-100).`);
  return n;
}

interface VirtualDeviceCliOptions {
  tcp?: { host: string; port: number };
  pty: boolean;
  state?: string;
  product?: string;
  count: number;
  maxDownloadSize?: number;
  bootDelay: number;
  bootloaderVersion?: string;
  batteryLevel?: number;
  json: boolean;
  dropAtByte?: number;
  powerLossAt?: PowerLossFault;
  badBoot: Slot[];
  capacity?: number;
  rate?: number;
  latency?: number;
  garbageReplies: boolean;
}

export function registerVirtualDevice(program: Command): void {
  program
    .command('virtual-device')
    .description('run virtual devices that speak fastboot (for tests, demos and training); Ctrl-C stops them')
    .option(
      '--tcp <host:port>',
      `listen for fastboot over TCP (default 127.0.0.1:${TCP_DEFAULT_PORT} without --pty)`,
      parseHostPort,
    )
    .option('--pty', 'also serve fastboot on a pty pair made by socat (prints the host end)', false)
    .option(
      '--state <dir>',
      'state directory (default: a temp dir removed on exit); with --count, one sub-dir each',
    )
    .option('--product <id>', 'product id of a new device (default flashline-virtual)')
    .option('--count <n>', 'start N devices on consecutive ports with distinct serials', parsePositiveInt, 1)
    .option('--max-download-size <bytes>', 'download buffer size (default 268435456)', parsePositiveInt)
    .option('--boot-delay <ms>', 'how long a reboot or power cycle takes', parseNonNegativeInt, 1000)
    .option('--bootloader-version <v>', 'getvar:version-bootloader (default 1.0.0)')
    .option('--battery-level <percent>', 'getvar:battery-level (default 100)', parsePercent)
    .option('--json', 'print the devices as JSON', false)
    .option(
      '--drop-at-byte <n>',
      'fault: drop the connection once, N bytes into a download',
      parseNonNegativeInt,
    )
    .option(
      '--power-loss-at <stage[:n]>',
      'fault: cut power once at download|flash (byte n) or erase|set_active|reboot|mark-successful (step n)',
      parsePowerLossOption,
    )
    .option('--bad-boot <slot>', 'fault: booting this slot always fails (repeatable)', collect(parseSlot), [])
    .option('--capacity <bytes>', 'fault: storage capacity (writes beyond it fail)', parsePositiveInt)
    .option('--rate <bytes-per-s>', 'fault: pace the link (USB 2 ~ 40000000, UART ~ 11520)', parsePositiveInt)
    .option('--latency <ms>', 'fault: delay before every response', parseNonNegativeInt)
    .option('--garbage-replies', 'fault: answer with malformed packets', false)
    .action(async (opts: VirtualDeviceCliOptions) => {
      // Listen before anything starts: a stop that arrives while starting is a stop, not a crash.
      const interrupted = untilInterrupted(() => 'stopping the virtual device(s)');
      const faults: Faults = {
        dropAtByte: opts.dropAtByte,
        powerLoss: opts.powerLossAt,
        badBoot: opts.badBoot.length > 0 ? opts.badBoot : undefined,
        rateBytesPerSecond: opts.rate,
        latencyMs: opts.latency,
        garbageReplies: opts.garbageReplies || undefined,
      };
      const tcp = opts.tcp ?? (opts.pty ? false : { host: '127.0.0.1', port: TCP_DEFAULT_PORT });
      const devices = await startVirtualDevices(opts.count, {
        tcp,
        pty: opts.pty,
        stateDir: opts.state,
        product: opts.product,
        maxDownloadSize: opts.maxDownloadSize,
        bootDelayMs: opts.bootDelay,
        bootloaderVersion: opts.bootloaderVersion,
        batteryLevel: opts.batteryLevel,
        capacity: opts.capacity,
        faults,
      });
      const rows = devices.map((d) => ({
        serial: d.serial,
        address: d.address,
        pty: d.ptyPath,
        stateDir: d.stateDir,
      }));
      if (opts.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else {
        for (const r of rows) {
          const pty = r.pty && r.address.startsWith('tcp:') ? `  pty ${r.pty}` : '';
          process.stdout.write(`${r.serial}  ${r.address}${pty}  state ${r.stateDir}\n`);
        }
        process.stdout.write('Press Ctrl-C to stop.\n');
      }
      for (const d of devices) {
        d.on('down', (why) => process.stderr.write(`${d.serial}: ${why}\n`));
        d.on('problem', (what) => process.stderr.write(`${d.serial}: ${what}\n`));
        d.on('up', () =>
          process.stderr.write(
            `${d.serial}: up (running ${d.device.runningVersion}, slot ${d.device.bootControl.active})\n`,
          ),
        );
      }
      await interrupted;
      await Promise.all(devices.map((d) => d.stop()));
    });
}
