/**
 * `flashline rescue PACKAGE --device ID [--backup NAME[,NAME] --backup-dir DIR] [--come-back ID]`: revive
 * a device in Qualcomm EDL from a signed rescue package (main/flash/rescue): verify the package, identify
 * the device in Sahara, check and send the programmer, optionally back up partitions, program, patch, set
 * the boot drive, reset, wait for the device to come back in fastboot (or Android) and check it is the same
 * unit. Progress (MB/s, ETA) on stderr; the report on stdout (`--json`: the RescueReport). Exit code = the
 * status code.
 */
import { resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import {
  createRunRescue,
  defaultComeBackId,
  defaultRescueDeps,
  type RescueProgress,
  type RescueReport,
} from '../../flash/rescue/index.js';
import { collect, parsePositiveInt } from '../options.js';
import { handleStopSignals } from '../stop-signals.js';
import { transferProgressPrinter } from '../transfer-progress.js';

interface RescueOptions {
  device: string;
  backup?: string[];
  backupDir?: string;
  comeBack?: string;
  comeBackTimeout: number;
  trust: string[];
  decryptionKey: string[];
  json: boolean;
}

function parsePartitions(v: string): string[] {
  const names = v.split(',').map((s) => s.trim());
  for (const n of names)
    if (!/^[A-Za-z0-9_][A-Za-z0-9_-]{0,35}$/.test(n))
      throw new InvalidArgumentError(`'${n}' is not a partition label (letters, digits, _ and -).`);
  return names;
}

export function registerRescue(program: Command): void {
  program
    .command('rescue')
    .description(
      'revive a device in Qualcomm EDL from a signed rescue package; it comes back in fastboot (exit code = status code)',
    )
    .argument('<package>', 'a rescue package (flashline pack --from-qualcomm-dir)')
    .requiredOption(
      '--device <id>',
      'the device in EDL: usb:SERIAL or usb:05c6:9008 (USB), serial:PATH (COM port, pty) or edl:HOST:PORT (virtual device)',
    )
    .option(
      '--backup <names>',
      'back up these partitions first (comma-separated GPT labels)',
      parsePartitions,
    )
    .option('--backup-dir <dir>', 'where the backups go (LABEL.img each, written atomically)')
    .option(
      '--come-back <id>',
      'where the device answers after the reset, e.g. usb:SERIAL (default: tcp:HOST:PORT for edl:HOST:PORT)',
    )
    .option('--come-back-timeout <seconds>', 'how long to wait for it', parsePositiveInt, 120)
    .option('--trust <dir>', 'trust directory instead of the default ones (repeatable)', collect(String), [])
    .option(
      '--decryption-key <file>',
      'station key for an encrypted package (repeatable)',
      collect(String),
      [],
    )
    .option('--json', 'print the report as JSON', false)
    .action(async (pkg: string, opts: RescueOptions, cmd: Command) => {
      if (!opts.comeBack && !defaultComeBackId(opts.device))
        cmd.error(
          `error: where does ${opts.device} come back after the rescue? Give --come-back ID (tcp:HOST:PORT, adb:HOST:PORT or a USB id).`,
          { exitCode: 2 },
        );
      if (opts.backup && !opts.backupDir)
        cmd.error('error: --backup needs --backup-dir DIR (where the images are written).', { exitCode: 2 });
      process.exitCode = await runRescueCli(resolve(pkg), opts);
    });
}

/** A line per stage (redrawn on a terminal; a line a second in a log), as every one-item transfer shows it. */
function progressPrinter(): { readonly show: (p: RescueProgress) => void; readonly end: () => void } {
  const printer = transferProgressPrinter();
  return {
    show: (p) =>
      printer.show({
        what: p.label ? `${p.stage} ${p.label}` : p.stage,
        bytesDone: p.bytesDone,
        bytesTotal: p.bytesTotal,
        rate: p.rate,
        etaSeconds: p.etaSeconds,
      }),
    end: printer.end,
  };
}

function printReport(r: RescueReport): void {
  for (const line of r.deviceLog) process.stderr.write(`  device: ${line}\n`);
  const lines = [
    `${r.status === 0 ? 'rescued' : 'rescue failed'}: ${r.message} (status ${r.status} ${r.statusName})`,
    ...(r.identity.serial || r.identity.oemPkHash
      ? [
          `  device ${r.deviceId}: serial ${r.identity.serial ?? '?'}, MSM HW id ${r.identity.msmHwId ?? '?'}, OEM PK hash ${r.identity.oemPkHash ?? '?'}`,
        ]
      : []),
    ...(r.package.id
      ? [`  package ${r.package.id} ${r.package.version} (${r.package.sha256.slice(0, 16)}…)`]
      : []),
    ...r.backups.map((b) => `  backup ${b.partition}: ${b.bytes} bytes → ${b.file} (sha256 ${b.sha256})`),
    ...(r.cameBackAs ? [`  came back as ${r.cameBackAs}`] : []),
    ...(r.postcheck ? [`  postcheck: ${r.postcheck}`] : []),
    ...(r.status !== 0 ? [`  what to do: ${r.remedy}`] : []),
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

async function runRescueCli(packagePath: string, opts: RescueOptions): Promise<number> {
  const stopping = new AbortController();
  const dispose = handleStopSignals({
    onStop: () => stopping.abort(),
    describe: () => 'stopping the rescue (the device stays in EDL or the programmer; run it again)',
  });
  try {
    const run = createRunRescue(
      defaultRescueDeps({
        ...(opts.trust.length > 0 ? { trustDirs: opts.trust } : {}),
        ...(opts.decryptionKey.length > 0 ? { decryptionKeyFiles: opts.decryptionKey } : {}),
      }),
    );
    const progress = opts.json ? undefined : progressPrinter();
    const report = await run(
      {
        deviceId: opts.device,
        packagePath,
        ...(opts.backup && opts.backupDir
          ? { backup: { partitions: opts.backup, dir: resolve(opts.backupDir) } }
          : {}),
        comeBack: {
          ...(opts.comeBack ? { deviceId: opts.comeBack } : {}),
          timeoutMs: opts.comeBackTimeout * 1000,
        },
        signal: stopping.signal,
      },
      progress?.show ?? (() => {}),
    );
    progress?.end();
    if (opts.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
    else printReport(report);
    return report.status;
  } finally {
    dispose();
  }
}
