import type { Command } from 'commander';
import { startLiveService } from '../../station/live-service.js';
import { assertBindAllowed, runStation } from '../../station/run-station.js';
import { parsePort, untilInterrupted } from '../options.js';
import { stopJobs } from '../stop-jobs.js';

export function registerStation(program: Command): void {
  program
    .command('station')
    .description(
      'serve the Flashline UI and API to a browser (headless factory stations); loopback only by default',
    )
    .option('--port <n>', 'TCP port (0 picks a free one)', parsePort, 7480)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option(
      '--allow-remote',
      'allow binding a non-loopback address (prints a warning; the token is still required)',
      false,
    )
    .option('--no-usb', 'do not watch USB for devices')
    .option('--no-serial', 'do not list serial ports')
    .option('--json', 'print the URL and token as JSON', false)
    .action(
      async (opts: {
        port: number;
        host: string;
        allowRemote: boolean;
        usb: boolean;
        serial: boolean;
        json: boolean;
      }) => {
        const log = (line: string) => process.stderr.write(`${line}\n`);
        // Listen before anything starts: a stop that arrives while starting is a stop, not a crash.
        const interrupted = untilInterrupted(() => 'stopping the station; running jobs stop safely');
        // Refuse a remote bind before discovery starts, not after.
        assertBindAllowed(opts.host, opts.allowRemote);
        const live = await startLiveService({ mode: 'station', usb: opts.usb, serial: opts.serial, log });
        let station: Awaited<ReturnType<typeof runStation>>;
        try {
          station = await runStation({
            host: opts.host,
            port: opts.port,
            allowRemote: opts.allowRemote,
            log,
            service: live.service,
          });
        } catch (err) {
          live.stop();
          throw err;
        }
        if (opts.json)
          process.stdout.write(`${JSON.stringify({ url: station.url, token: station.token })}\n`);
        else
          process.stdout.write(`Flashline station is running. Open ${station.url}\nPress Ctrl-C to stop.\n`);
        await interrupted;
        await stopJobs(live.service.flash);
        await station.close();
        live.stop();
      },
    );
}
