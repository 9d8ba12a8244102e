import { once } from 'node:events';
import { type Command, InvalidArgumentError } from 'commander';
import { adbSource } from '../../devices/adb-endpoints.js';
import {
  type DeviceInfo,
  DeviceRegistry,
  type DeviceSource,
  edlId,
  edlSource,
  modemSource,
  serialSource,
  startDiscovery,
  tcpSource,
  usbSource,
} from '../../devices/index.js';
import { collect, parseHostPort, parsePositiveInt } from '../options.js';
import { handleStopSignals } from '../stop-signals.js';

interface DevicesOptions {
  json: boolean;
  tcp: { host: string; port: number }[];
  adb: { host: string; port: number }[];
  serial: string[];
  modem: string[];
  edl: string[];
  usb: boolean;
  listSerial: boolean;
  timeout: number;
}

function row(d: DeviceInfo): string {
  const parts = [d.id.padEnd(28), d.mode.padEnd(9), d.state.padEnd(11)];
  const facts = [
    d.authorization && `usb-debugging=${d.authorization === 'authorized' ? 'allowed' : 'NOT ALLOWED'}`,
    d.product && `product=${d.product}`,
    d.serial && `serial=${d.serial}`,
    d.currentSlot && `slot=${d.currentSlot}`,
    d.version && `version=${d.version}`,
    d.rollbackIndex !== undefined && `rollback=${d.rollbackIndex}`,
    d.hardwareRevision && `hw=${d.hardwareRevision}`,
    d.imei && `imei=${d.imei}`,
    d.msmHwId && `msm=${d.msmHwId}`,
    d.oemPkHash && `oem-pk-hash=${d.oemPkHash}`,
    d.sameAs && `same-unit-as=${d.sameAs}`,
    // An unauthorized phone's note is the remedy: what the technician must do, in full.
    d.note && (d.authorization === 'unauthorized' ? `\n  what to do: ${d.note}` : `(${d.note})`),
  ].filter(Boolean);
  return `${parts.join(' ')} ${facts.join(' ')}`.trimEnd();
}

/** `--edl` values: `edl:HOST:PORT`, `serial:PATH`, or a bare port path. */
export function parseEdlId(value: string): string {
  try {
    return edlId(value);
  } catch (err) {
    throw new InvalidArgumentError(err instanceof Error ? err.message : String(err));
  }
}

export function registerDevices(program: Command): void {
  program
    .command('devices')
    .description('list connected devices (USB, serial ports, and TCP endpoints you name) and identify them')
    .option('--json', 'print {devices, problems} as JSON', false)
    .option(
      '--tcp <host:port>',
      'also probe a fastboot TCP endpoint (repeatable)',
      collect(parseHostPort),
      [],
    )
    .option(
      '--adb <host:port>',
      'also probe an ADB-over-TCP endpoint, e.g. a phone in Android (repeatable)',
      collect(parseHostPort),
      [],
    )
    .option(
      '--serial <path>',
      'also probe a serial port or pty for fastboot (repeatable)',
      collect(String),
      [],
    )
    .option(
      '--modem <path>',
      'also identify a modem AT port over AT (repeatable; never probed with fastboot)',
      collect(String),
      [],
    )
    .option(
      '--edl <id>',
      'also identify a device in Qualcomm EDL over Sahara: edl:HOST:PORT or serial:PATH (repeatable)',
      collect(parseEdlId),
      [],
    )
    .option('--no-usb', 'do not look at USB')
    .option('--no-list-serial', 'do not enumerate serial ports')
    .option('--timeout <ms>', 'time allowed to identify each device', parsePositiveInt, 5000)
    .action(async (opts: DevicesOptions) => {
      const registry = new DeviceRegistry();
      const sources: DeviceSource[] = [];
      if (opts.usb) sources.push(usbSource({ identifyTimeoutMs: opts.timeout }));
      sources.push(
        serialSource({
          paths: opts.serial,
          list: opts.listSerial,
          skip: [...opts.modem, ...opts.edl.flatMap((id) => (id.startsWith('serial:') ? [id.slice(7)] : []))],
          identifyTimeoutMs: opts.timeout,
        }),
      );
      if (opts.modem.length > 0) sources.push(modemSource({ paths: opts.modem }));
      if (opts.edl.length > 0) sources.push(edlSource({ ids: opts.edl, identifyTimeoutMs: opts.timeout }));
      if (opts.tcp.length > 0) sources.push(tcpSource(opts.tcp, { identifyTimeoutMs: opts.timeout }));
      if (opts.adb.length > 0) sources.push(adbSource(opts.adb, { identifyTimeoutMs: opts.timeout }));
      // Ctrl-C: list what is known so far, then stop identifying (every port and socket is closed).
      const interrupt = new AbortController();
      const disposeSignals = handleStopSignals({
        onStop: (signal) => {
          process.exitCode = signal === 'SIGINT' ? 130 : 143;
          interrupt.abort();
        },
        describe: () => 'stopping identification',
      });
      try {
        // Identify, then release: every probe closes its link, so a job can open the same port next.
        const discovery = await startDiscovery(registry, sources);
        const probing =
          opts.serial.length + opts.modem.length + opts.edl.length + opts.tcp.length + opts.adb.length;
        if (probing > 0) process.stderr.write(`Identifying ${probing} device(s) you named…\n`);
        await Promise.race([discovery.settled(), once(interrupt.signal, 'abort')]);
        const devices = registry.list();
        discovery.stop();
        printDevices(devices, discovery.problems, opts.json);
      } finally {
        disposeSignals();
      }
    });
}

function printDevices(devices: readonly DeviceInfo[], problems: readonly string[], json: boolean): void {
  if (json) {
    process.stdout.write(`${JSON.stringify({ devices, problems }, null, 2)}\n`);
    return;
  }
  for (const p of problems) process.stderr.write(`note: ${p}\n`);
  if (devices.length === 0) {
    process.stdout.write(
      'No devices found. Connect a device, or name one with --tcp HOST:PORT / --adb HOST:PORT / --serial PATH.\n',
    );
    return;
  }
  for (const d of devices) process.stdout.write(`${row(d)}\n`);
}
