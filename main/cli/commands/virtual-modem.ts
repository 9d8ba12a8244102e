/**
 * `flashline virtual-device --profile zte-mifi`: a MiFi router in normal mode with its AT and DIAG ports on
 * ptys. Prints the port paths (`--json`: `{profile, at, diag, imei, stateDir}`), then reports when a switch
 * took it into download mode. Composition root, like virtual-device.ts.
 */
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ZteMifiDevice } from '../../../virtual-device/index.js';
import { untilInterrupted } from '../options.js';

export async function runZteMifi(opts: { json: boolean; stateDir?: string | undefined }): Promise<void> {
  const interrupted = untilInterrupted(() => 'stopping the virtual modem');
  const dir = opts.stateDir ?? (await fs.mkdtemp(join(tmpdir(), 'flashline-zte-mifi-')));
  const device = new ZteMifiDevice({
    dir,
    // Hook for the qualcomm-edl profile (another branch): start the bricked device here, on a fresh pty.
    onDownloadMode: async () => {},
  });
  device.on('problem', (m) => process.stderr.write(`zte-mifi: ${m}\n`));
  device.on('download-mode', (via) => {
    const line = { event: 'download-mode', via, mode: 'edl' };
    if (opts.json) process.stdout.write(`${JSON.stringify(line)}\n`);
    else
      process.stdout.write(
        `zte-mifi: switched by ${via.toUpperCase()}: now in download mode (EDL); its AT and DIAG ports are gone\n`,
      );
  });
  await device.start();
  const row = {
    profile: 'zte-mifi',
    at: device.atPath,
    diag: device.diagPath,
    imei: device.imei,
    stateDir: dir,
  };
  if (opts.json) process.stdout.write(`${JSON.stringify(row)}\n`);
  else
    process.stdout.write(
      `zte-mifi  AT ${row.at}  DIAG ${row.diag}  IMEI ${row.imei}\nPress Ctrl-C to stop.\n`,
    );
  await interrupted;
  await device.stop();
  if (!opts.stateDir) await fs.rm(dir, { recursive: true, force: true });
}
