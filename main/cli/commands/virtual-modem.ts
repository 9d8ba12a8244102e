/**
 * `flashline virtual-device --profile zte-mifi`: a MiFi router in normal mode with its AT and DIAG ports on
 * ptys. Prints the port paths (`--json`: `{profile, at, diag, imei, edl, stateDir}`), then, when a switch
 * took it into download mode, becomes the bricked `qualcomm-edl` profile: Sahara + Firehose on a fresh pty
 * at the path printed as `edl`, reported as `{"event":"download-mode","via","mode":"edl","pty","serial",
 * "oemPkHash","fastbootAfterRescue"}`. Rescued and reset, it boots as the reference fastboot device (same
 * serial) on `--tcp` (default 127.0.0.1:5554), as `--profile qualcomm-edl --pty` does. Composition root,
 * like virtual-device.ts.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdlDeviceHandle, startVirtualDevice, ZteMifiDevice } from '../../../virtual-device/index.js';
import { TCP_DEFAULT_PORT } from '../../protocol/fastboot/tcp-framing.js';
import { untilInterrupted } from '../options.js';

export interface ZteMifiCliOptions {
  readonly json: boolean;
  readonly stateDir?: string | undefined;
  /** Where the device serves fastboot once rescued (default 127.0.0.1:5554). */
  readonly tcp?: { host: string; port: number } | undefined;
  readonly storage?: string | undefined;
}

/** The pty the bricked device serves EDL on, known before the switch so a station can watch it. */
export function edlPtyPath(stateDir: string): string {
  return join(stateDir, 'edl', 'pty', 'pty-host');
}

export async function runZteMifi(opts: ZteMifiCliOptions): Promise<void> {
  const interrupted = untilInterrupted(() => 'stopping the virtual modem');
  const dir = opts.stateDir ?? (await fs.mkdtemp(join(tmpdir(), 'flashline-zte-mifi-')));
  const say = (line: Record<string, unknown>, text: string) =>
    process.stdout.write(opts.json ? `${JSON.stringify(line)}\n` : `${text}\n`);
  let bricked: EdlDeviceHandle | null = null;
  const fastboot = opts.tcp ?? { host: '127.0.0.1', port: TCP_DEFAULT_PORT };
  const device = new ZteMifiDevice({
    dir,
    // The router left its normal mode: from now on it is a bricked Qualcomm device in EDL.
    onDownloadMode: async (via) => {
      bricked = await EdlDeviceHandle.start({
        stateDir: join(dir, 'edl'),
        storage: opts.storage === 'emmc' ? 'emmc' : 'ufs',
        tcp: false,
        pty: true,
        bootTo: async ({ serial }) => {
          const booted = await startVirtualDevice({ serial, tcp: fastboot, stateDir: join(dir, 'fastboot') });
          say(
            { event: 'booted', mode: 'fastboot', address: booted.address, serial },
            `zte-mifi: rescued and booted: fastboot on ${booted.address}`,
          );
          return { address: booted.address, stop: () => booted.stop() };
        },
      });
      const serial = bricked.serialNumber.toString(16).padStart(8, '0');
      const oemPkHash = Buffer.from(bricked.oemPkHash).toString('hex');
      say(
        {
          event: 'download-mode',
          via,
          mode: 'edl',
          pty: bricked.ptyPath,
          serial,
          oemPkHash,
          fastbootAfterRescue: `tcp:${fastboot.host}:${fastboot.port}`,
        },
        `zte-mifi: switched by ${via.toUpperCase()}: now in download mode (EDL) as serial:${bricked.ptyPath}, serial ${serial}; its AT and DIAG ports are gone`,
      );
    },
  });
  device.on('problem', (m) => process.stderr.write(`zte-mifi: ${m}\n`));
  await device.start();
  const row = {
    profile: 'zte-mifi',
    at: device.atPath,
    diag: device.diagPath,
    imei: device.imei,
    edl: edlPtyPath(dir),
    stateDir: dir,
  };
  say(
    row,
    `zte-mifi  AT ${row.at}  DIAG ${row.diag}  IMEI ${row.imei}\n  after a switch to download mode: EDL on serial:${row.edl}\nPress Ctrl-C to stop.`,
  );
  await interrupted;
  await device.stop();
  await (bricked as EdlDeviceHandle | null)?.stop();
  if (!opts.stateDir) await fs.rm(dir, { recursive: true, force: true });
}
