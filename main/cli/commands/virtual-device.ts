/**
 * `flashline virtual-device`: run one or more virtual devices that speak fastboot over TCP and/or a pty —
 * the reference device, or (`--profile stock-android`) a stock phone that runs Android with ADB.
 * Composition root: the only place (with the demo) where the CLI reaches into virtual-device/.
 */
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import {
  DEVICE_PROFILES,
  type DeviceProfile,
  type Faults,
  type OtaAgentOptions,
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
import { registerMakeAndroidImage } from './make-android-image.js';
import { registerMakeRescueDir } from './make-rescue-dir.js';
import { type EdlCliOptions, edlUsageProblem, runEdlDevice } from './virtual-device-edl.js';
import { runZteMifi } from './virtual-modem.js';

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

function parseProfile(value: string): DeviceProfile | 'zte-mifi' | 'qualcomm-edl' {
  if (value === 'zte-mifi' || value === 'qualcomm-edl') return value;
  const profile = DEVICE_PROFILES.find((p) => p === value);
  if (!profile)
    throw new InvalidArgumentError(
      `'${value}' is not a profile (${[...DEVICE_PROFILES, 'zte-mifi', 'qualcomm-edl'].join(', ')}).`,
    );
  return profile;
}

/** An `adbkey.pub`-style file: one key per line (base64, then an optional comment); blank lines skipped. */
function parseAuthorizedKeys(file: string): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new InvalidArgumentError(`cannot read '${file}' (${why}); give a file of adbkey.pub lines.`);
  }
  const keys = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '');
  for (const [i, key] of keys.entries()) {
    if (!/^[A-Za-z0-9+/]{100,}={0,2}( .*)?$/.test(key)) {
      throw new InvalidArgumentError(
        `line ${i + 1} of '${file}' is not an ADB public key (base64 of the key, then an optional name, as in ~/.android/adbkey.pub).`,
      );
    }
  }
  return keys;
}

function parsePercent(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n > 100) throw new InvalidArgumentError(`'${value}' is not a percentage (0-100).`);
  return n;
}

interface VirtualDeviceCliOptions
  extends Omit<EdlCliOptions, 'json' | 'pty' | 'tcp' | 'state' | 'dropAtByte'> {
  profile: DeviceProfile | 'zte-mifi' | 'qualcomm-edl';
  tcp?: { host: string; port: number };
  adb?: { host: string; port: number };
  adbAuthorizedKeys?: string[];
  dynamicPartitions: boolean;
  superSize?: number;
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
  ota?: string;
  otaRoot?: string;
  trust: string[];
  otaInterval?: number;
  otaReport?: string;
  otaSite?: string;
  otaKey: string[];
}

/** The OTA agent's options from the flags, or a usage problem (exit 2); undefined without --ota. */
function otaOptions(opts: VirtualDeviceCliOptions): OtaAgentOptions | string | undefined {
  const given = opts.otaRoot ?? opts.otaInterval ?? opts.otaReport ?? opts.otaSite ?? opts.otaKey[0];
  if (!opts.ota)
    return given !== undefined
      ? '--ota-root/--ota-interval/--ota-report/--ota-site/--ota-key need --ota URL.'
      : undefined;
  if (!opts.otaRoot) return "--ota needs --ota-root ROOT.json (the root.json 'flashline repo init' wrote).";
  if (opts.trust.length === 0) return '--ota needs --trust DIR (the publisher keys the device accepts).';
  return {
    url: opts.ota,
    root: opts.otaRoot,
    trust: opts.trust,
    ...(opts.otaInterval !== undefined ? { intervalSeconds: opts.otaInterval } : {}),
    ...(opts.otaReport !== undefined ? { report: opts.otaReport } : {}),
    ...(opts.otaSite !== undefined ? { site: opts.otaSite } : {}),
    ...(opts.otaKey.length > 0 ? { decryptionKeys: opts.otaKey } : {}),
  };
}

export function registerVirtualDevice(program: Command): void {
  program
    .command('virtual-device')
    .description(
      'run virtual devices that speak fastboot, or stock Android phones with ADB (for tests, demos and training); Ctrl-C stops them',
    )
    .option(
      '--profile <name>',
      "reference (Flashline's device: fastboot always, oem extensions) stock-android (starts in Android with ADB; fastboot only in the bootloader) sink (the reference device discarding what it receives, for benchmarks; pace it with --rate) zte-mifi (a MiFi router: AT + DIAG ports on ptys, --json prints them) or qualcomm-edl (a bricked Qualcomm device in Emergency Download mode: Sahara + Firehose over edl:HOST:PORT or --pty)",
      parseProfile,
      'reference',
    )
    .option(
      '--tcp <host:port>',
      `listen for fastboot over TCP (default 127.0.0.1:${TCP_DEFAULT_PORT} without --pty)`,
      parseHostPort,
    )
    .option(
      '--adb <host:port>',
      'stock-android: serve ADB here while in Android (default: the fastboot port + 1, or a free port with port 0)',
      parseHostPort,
    )
    .option(
      '--adb-authorized-keys <file>',
      'stock-android: accept only these host keys (adbkey.pub lines); default: accept any key',
      parseAuthorizedKeys,
    )
    .option(
      '--dynamic-partitions',
      'stock-android: system/vendor/product are logical partitions in one super, flashed in fastbootd (reboot fastboot)',
      false,
    )
    .option(
      '--super-size <bytes>',
      'with --dynamic-partitions: size of the super partition (default 268435456; a sparse file)',
      parsePositiveInt,
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
    .option(
      '--rate <bytes-per-s>',
      'pace the link: bytes per second received (USB 2 ~ 40000000, UART ~ 11520); with --profile sink, a paced benchmark device',
      parsePositiveInt,
    )
    .option('--latency <ms>', 'fault: delay before every response', parseNonNegativeInt)
    .option('--garbage-replies', 'fault: answer with malformed packets', false)
    .option('--storage <type>', 'qualcomm-edl: emmc (512-byte sectors) or ufs (4096, default)')
    .option(
      '--sahara-version <n>',
      'qualcomm-edl: Sahara protocol version 2 (default) or 3',
      parsePositiveInt,
    )
    .option(
      '--nak-at-sector <n>',
      'qualcomm-edl fault: NAK a Firehose program that covers sector N',
      parseNonNegativeInt,
    )
    .option('--ota <url>', 'run an OTA agent: poll this update repository and update the device itself')
    .option('--ota-root <file>', "with --ota: the repository's root.json (first poll; then remembered)")
    .option(
      '--trust <dir>',
      'with --ota: a trust directory of publisher keys (repeatable)',
      collect(String),
      [],
    )
    .option('--ota-interval <seconds>', 'with --ota: seconds between polls (default 60)', parsePositiveInt)
    .option('--ota-report <url>', 'with --ota: mqtt://HOST:PORT to send attempt reports to')
    .option('--ota-site <name>', 'with --ota: the site in the report topic (default "default")')
    .option(
      '--ota-key <file>',
      'with --ota: station private key for encrypted packages (repeatable)',
      collect(String),
      [],
    )
    .action(async (opts: VirtualDeviceCliOptions, cmd: Command) => {
      // A MiFi router in normal mode: AT + DIAG ports on ptys, nothing of the phone options applies.
      if (opts.profile === 'zte-mifi')
        return runZteMifi({
          json: opts.json,
          stateDir: opts.state,
          tcp: opts.tcp,
          adb: opts.adb,
          storage: opts.storage,
        });
      if (opts.profile === 'qualcomm-edl') {
        const problem = edlUsageProblem(opts);
        if (problem) cmd.error(`error: ${problem}`, { exitCode: 2 });
        await runEdlDevice(opts);
        return;
      }
      const profile = opts.profile;
      const ota = otaOptions(opts);
      if (typeof ota === 'string') cmd.error(`error: ${ota}`, { exitCode: 2 });
      if (opts.profile !== 'stock-android' && (opts.adb || opts.adbAuthorizedKeys)) {
        cmd.error(
          'error: --adb and --adb-authorized-keys need --profile stock-android (the reference device has no ADB).',
          { exitCode: 2 },
        );
      }
      if (opts.profile !== 'stock-android' && opts.dynamicPartitions) {
        cmd.error('error: --dynamic-partitions needs --profile stock-android.', { exitCode: 2 });
      }
      if (opts.superSize !== undefined && !opts.dynamicPartitions) {
        cmd.error('error: --super-size needs --dynamic-partitions.', { exitCode: 2 });
      }
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
        profile,
        tcp,
        adb: opts.adb,
        adbAuthorizedKeys: opts.adbAuthorizedKeys,
        dynamicPartitions: opts.dynamicPartitions
          ? { ...(opts.superSize === undefined ? {} : { superSize: opts.superSize }) }
          : undefined,
        pty: opts.pty,
        stateDir: opts.state,
        product: opts.product,
        maxDownloadSize: opts.maxDownloadSize,
        bootDelayMs: opts.bootDelay,
        bootloaderVersion: opts.bootloaderVersion,
        batteryLevel: opts.batteryLevel,
        capacity: opts.capacity,
        faults,
        ota,
      });
      const rows = devices.map((d) => ({
        serial: d.serial,
        profile: d.profile,
        address: d.address,
        adb: d.adbAddress,
        pty: d.ptyPath,
        stateDir: d.stateDir,
      }));
      if (opts.json) process.stdout.write(`${JSON.stringify(rows)}\n`);
      else {
        for (const r of rows) {
          const pty = r.pty && r.address.startsWith('tcp:') ? `  pty ${r.pty}` : '';
          const adb = r.adb ? `  ${r.adb} (in Android; fastboot in the bootloader)` : '';
          process.stdout.write(`${r.serial}  ${r.address}${adb}${pty}  state ${r.stateDir}\n`);
        }
        process.stdout.write('Press Ctrl-C to stop.\n');
      }
      for (const d of devices) {
        d.on('down', (why) => process.stderr.write(`${d.serial}: ${why}\n`));
        d.on('problem', (what) => process.stderr.write(`${d.serial}: ${what}\n`));
        d.ota?.on('problem', (what) => process.stderr.write(`${d.serial}: OTA: ${what}\n`));
        d.ota?.on('report', (r) =>
          process.stderr.write(
            `${d.serial}: OTA ${r.package.version} ${r.phase}${r.status !== undefined ? ` status ${r.status}` : ''}${r.message ? ` — ${r.message}` : ''}\n`,
          ),
        );
        d.on('up', () => {
          const mode = d.device.mode;
          const where =
            mode === 'os'
              ? d.adbAddress
                ? ' in Android'
                : ''
              : mode === 'fastbootd'
                ? ' in fastbootd'
                : ' in the bootloader';
          process.stderr.write(
            `${d.serial}: up${where} (running ${d.device.runningVersion}, slot ${d.device.bootControl.active})\n`,
          );
        });
      }
      await interrupted;
      await Promise.all(devices.map((d) => d.stop()));
    });
  registerMakeAndroidImage(program.commands.find((c) => c.name() === 'virtual-device')!);
  registerMakeRescueDir(program.commands.find((c) => c.name() === 'virtual-device')!);
}
