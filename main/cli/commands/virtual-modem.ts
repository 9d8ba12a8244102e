/**
 * `flashline virtual-device --profile zte-mifi`: a MiFi router in normal mode with its AT and DIAG ports on
 * ptys. Prints the port paths (`--json`: `{profile, at, diag, imei, edl, stateDir}`); after a switch it
 * becomes what virtual-device/modem/zte-download-mode.ts describes: with `--adb HOST:PORT` first ZTE download
 * mode (ADB there, `adb reboot edl`), then a bricked `qualcomm-edl` device on a fresh pty at the path printed
 * as `edl`; each step is one JSON line (`zte-download-mode`, `download-mode`, `booted`). Rescued and reset, it
 * boots as the reference fastboot device (same serial) on `--tcp` (default 127.0.0.1:5554), as
 * `--profile qualcomm-edl --pty` does. Composition root, like virtual-device.ts.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startVirtualDevice,
  ZTE_MIFI_IDENTITY,
  ZteAfterSwitch,
  ZteMifiDevice,
  zteEdlPtyPath,
} from '../../../virtual-device/index.js';
import { TCP_DEFAULT_PORT } from '../../protocol/fastboot/tcp-framing.js';
import { untilInterrupted } from '../options.js';

export interface ZteMifiCliOptions {
  readonly json: boolean;
  readonly stateDir?: string | undefined;
  /** Where the device serves fastboot once rescued (default 127.0.0.1:5554). */
  readonly tcp?: { host: string; port: number } | undefined;
  /** ZTE download mode's ADB address; without it the router goes straight to EDL. */
  readonly adb?: { host: string; port: number } | undefined;
  readonly storage?: string | undefined;
}

function eventText(e: Record<string, unknown>): string {
  if (e.event === 'zte-download-mode')
    return `zte-mifi: switched by ${String(e.via).toUpperCase()}: in ZTE download mode, ADB on ${String(e.adb)} (adb reboot edl)`;
  if (e.event === 'download-mode')
    return `zte-mifi: switched by ${String(e.via).toUpperCase()}: now in download mode (EDL) as serial:${String(e.pty)}, serial ${String(e.serial)}; its AT and DIAG ports are gone`;
  return `zte-mifi: rescued and booted: fastboot on ${String(e.address)}`;
}

export async function runZteMifi(opts: ZteMifiCliOptions): Promise<void> {
  const interrupted = untilInterrupted(() => 'stopping the virtual modem');
  const dir = opts.stateDir ?? (await fs.mkdtemp(join(tmpdir(), 'flashline-zte-mifi-')));
  const fastboot = opts.tcp ?? { host: '127.0.0.1', port: TCP_DEFAULT_PORT };
  const say = (line: Record<string, unknown>, text: string) =>
    process.stdout.write(opts.json ? `${JSON.stringify(line)}\n` : `${text}\n`);
  const after = new ZteAfterSwitch({
    dir,
    identity: ZTE_MIFI_IDENTITY,
    ...(opts.adb ? { adb: opts.adb } : {}),
    storage: opts.storage === 'emmc' ? 'emmc' : 'ufs',
    bootFastboot: async (serial) => {
      const booted = await startVirtualDevice({ serial, tcp: fastboot, stateDir: join(dir, 'fastboot') });
      return { address: booted.address, stop: () => booted.stop() };
    },
    report: (e) =>
      say(
        e.event === 'download-mode'
          ? { ...e, fastbootAfterRescue: `tcp:${fastboot.host}:${fastboot.port}` }
          : e,
        eventText(e),
      ),
  });
  const device = new ZteMifiDevice({ dir, onDownloadMode: (via) => after.onDownloadMode(via) });
  device.on('problem', (m) => process.stderr.write(`zte-mifi: ${m}\n`));
  await device.start();
  const row = {
    profile: 'zte-mifi',
    at: device.atPath,
    diag: device.diagPath,
    imei: device.imei,
    edl: zteEdlPtyPath(dir),
    ...(opts.adb ? { adb: `adb:${opts.adb.host}:${opts.adb.port}` } : {}),
    stateDir: dir,
  };
  say(
    row,
    `zte-mifi  AT ${row.at}  DIAG ${row.diag}  IMEI ${row.imei}\n  after a switch to download mode: ${row.adb ? `ZTE download mode on ${row.adb}, then ` : ''}EDL on serial:${row.edl}\nPress Ctrl-C to stop.`,
  );
  await interrupted;
  await device.stop();
  await after.stop();
  if (!opts.stateDir) await fs.rm(dir, { recursive: true, force: true });
}
