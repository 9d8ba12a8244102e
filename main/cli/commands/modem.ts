/**
 * `flashline modem identify|edl --device serial:PATH`: the support actions for MiFi routers and USB modems
 * in normal mode. Exit codes follow docs/status-codes.md: 0 done, 12 no answer in time, 15 port not found
 * or not an AT/DIAG port that answers, 17 noise instead of AT, 27 no vendor entry for this modem, 32 the
 * modem refused the switch.
 */
import type { Command } from 'commander';
import { FlashlineError } from '../../common/errors.js';
import { statusByName } from '../../common/status-codes.js';
import { enterModemEdl, identifyModemAt, NoModeSwitchError } from '../../devices/modem-actions.js';
import { AtCommandError, AtProtocolError } from '../../protocol/at/index.js';
import { DiagProtocolError, DiagRefusedError } from '../../protocol/diag/index.js';
import { DisconnectedError, OpenError, TimeoutError } from '../../transport/index.js';
import { parsePositiveInt } from '../options.js';

interface ModemOptions {
  device: string;
  json: boolean;
  timeout?: number;
  via?: 'at' | 'diag';
  diag?: string;
}

function serialPath(id: string): string {
  const path = id.startsWith('serial:') ? id.slice('serial:'.length) : id;
  if (path === '')
    throw new FlashlineError('bad_input', `'${id}' names no port; give --device serial:/dev/ttyUSB2`);
  return path;
}

/** The status code a failure ends with, and a technician's reading of it. */
export function modemExitCode(err: unknown): number {
  const code = (name: string) => statusByName(name).code;
  if (err instanceof NoModeSwitchError) return code('wrong_product');
  if (err instanceof AtCommandError || err instanceof DiagRefusedError) return code('switch_failed');
  if (err instanceof AtProtocolError || err instanceof DiagProtocolError) return code('protocol_error');
  if (err instanceof TimeoutError) return code('device_timeout');
  if (err instanceof OpenError || err instanceof DisconnectedError) return code('device_not_found');
  return 1;
}

function fail(err: unknown, json: boolean): void {
  const exit = modemExitCode(err);
  const message = err instanceof Error ? err.message : String(err);
  if (json) process.stdout.write(`${JSON.stringify({ ok: false, code: exit, message })}\n`);
  else process.stderr.write(`error: ${message}\n`);
  process.exitCode = exit;
}

export function registerModem(program: Command): void {
  const modem = program
    .command('modem')
    .description('modems and MiFi routers on their AT / DIAG serial ports');
  const common = (c: Command) =>
    c
      .requiredOption('--device <serial:PATH>', 'the modem port, e.g. serial:/dev/ttyUSB2')
      .option('--json', 'print the result as JSON', false)
      .option('--timeout <ms>', 'time limit per command (default 1500)', parsePositiveInt);

  common(
    modem.command('identify').description('identify the modem over AT (manufacturer, model, revision, IMEI)'),
  ).action(async (opts: ModemOptions) => {
    try {
      const id = await identifyModemAt(
        serialPath(opts.device),
        opts.timeout ? { timeoutMs: opts.timeout } : {},
      );
      if (opts.json) process.stdout.write(`${JSON.stringify({ ok: true, identity: id })}\n`);
      else
        process.stdout.write(
          `manufacturer=${id.manufacturer ?? '?'} model=${id.model ?? '?'} revision=${id.revision ?? '?'} imei=${id.imei ?? '?'}${id.serial ? ` serial=${id.serial}` : ''}\n`,
        );
    } catch (err) {
      fail(err, opts.json);
    }
  });

  common(
    modem
      .command('edl')
      .description('take the modem into Qualcomm download mode (EDL) with its vendor switch'),
  )
    .option(
      '--via <at|diag>',
      'at (default: vendor table) or diag (--device is the DIAG port: send 4B 65 01 00)',
      (v) => {
        if (v !== 'at' && v !== 'diag')
          throw new FlashlineError('bad_input', `--via takes at or diag, not '${v}'`);
        return v;
      },
    )
    .option('--diag <serial:PATH>', 'the DIAG port, for vendor entries that switch through DIAG')
    .action(async (opts: ModemOptions) => {
      try {
        const result = await enterModemEdl(serialPath(opts.device), {
          ...(opts.timeout ? { timeoutMs: opts.timeout } : {}),
          ...(opts.via ? { via: opts.via } : {}),
          ...(opts.diag ? { diagPath: serialPath(opts.diag) } : {}),
        });
        if (opts.json) {
          process.stdout.write(`${JSON.stringify({ ok: true, ...result })}\n`);
          return;
        }
        for (const d of result.done) process.stdout.write(`${JSON.stringify(d.step)}: ${d.outcome}\n`);
        for (const p of result.pending)
          process.stdout.write(`then: ${'adb' in p ? `adb ${p.adb.join(' ')}` : JSON.stringify(p)}\n`);
        for (const c of result.ifAdbAppears ?? [])
          process.stdout.write(
            `if it shows up as an ADB device (vendor download mode): adb ${c.join(' ')}\n`,
          );
        process.stdout.write(
          result.pending.length === 0
            ? 'The modem left for download mode; it should come back as Qualcomm EDL (05c6:9008).\n'
            : 'The modem accepted the switch; finish with the steps above.\n',
        );
      } catch (err) {
        fail(err, opts.json);
      }
    });
}
