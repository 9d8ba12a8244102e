/**
 * `flashline virtual-device --profile zte-mifi`: a MiFi router in normal mode with its AT and DIAG ports on
 * ptys. Prints the port paths (`--json`: `{profile, at, diag, imei, edl, stateDir}`), then, when a switch
 * took it into download mode, becomes the bricked `qualcomm-edl` profile: Sahara + Firehose on a fresh pty
 * at the path printed as `edl` (and on `--tcp` when given), reported as
 * `{"event":"download-mode","via","mode":"edl","pty","serial","oemPkHash"}`. Composition root, like
 * virtual-device.ts.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EdlDeviceHandle, ZteMifiDevice } from '../../../virtual-device/index.js';
import { untilInterrupted } from '../options.js';

export interface ZteMifiCliOptions {
  readonly json: boolean;
  readonly stateDir?: string | undefined;
  /** Where the bricked device also listens (`edl:HOST:PORT`) once in download mode. */
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
  const device = new ZteMifiDevice({
    dir,
    // The router left its normal mode: from now on it is a bricked Qualcomm device in EDL.
    onDownloadMode: async (via) => {
      bricked = await EdlDeviceHandle.start({
        stateDir: join(dir, 'edl'),
        storage: opts.storage === 'emmc' ? 'emmc' : 'ufs',
        tcp: opts.tcp ?? false,
        pty: true,
      });
      const serial = bricked.serialNumber.toString(16).padStart(8, '0');
      const oemPkHash = Buffer.from(bricked.oemPkHash).toString('hex');
      say(
        {
          event: 'download-mode',
          via,
          mode: 'edl',
          pty: bricked.ptyPath,
          ...(bricked.address ? { address: bricked.address } : {}),
          serial,
          oemPkHash,
        },
        `zte-mifi: switched by ${via.toUpperCase()}: now in download mode (EDL) as serial:${bricked.ptyPath}${bricked.address ? ` and ${bricked.address}` : ''}, serial ${serial}; its AT and DIAG ports are gone`,
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
