import { isIP } from 'node:net';
import { type Command, InvalidArgumentError } from 'commander';
import { flashlineHome } from '../../common/paths.js';
import { FLASHLINE_VERSION } from '../../common/version.js';
import { readSecretFile } from '../../fleet/db.js';
import { startStationFleet } from '../../station/fleet-live.js';
import { startLiveService } from '../../station/live-service.js';
import { assertBindAllowed, runStation } from '../../station/run-station.js';
import { DEFAULT_UPLOAD_LIMIT } from '../../station/upload.js';
import { type LiveFlags, withLiveOptions } from '../live-options.js';
import { collect, parseByteSize, parseHostPort, parsePort, untilInterrupted } from '../options.js';
import { parseEdlId } from './devices.js';

/** A host name or address for --allow-host: no scheme, port or path (the station's port always applies). */
function parseHostName(value: string): string {
  const isName = /^([A-Za-z0-9-]+\.)*[A-Za-z0-9-]+$/.test(value) && !/^[\d.]+$/.test(value);
  if (!isName && isIP(value.replace(/^\[|\]$/g, '')) === 0) {
    throw new InvalidArgumentError(
      `'${value}' is not a host name (for example station-7.line.local or 10.0.0.7, without a port).`,
    );
  }
  return value;
}

interface StationFlags extends LiveFlags {
  embedBroker?: number;
  port: number;
  host: string;
  allowRemote: boolean;
  allowHost: string[];
  tlsCert?: string;
  tlsKey?: string;
  packages: string[];
  maxUpload: number;
  usb: boolean;
  serial: boolean;
  tcp: { host: string; port: number }[];
  modem: string[];
  edl: string[];
  adb: { host: string; port: number }[];
  json: boolean;
}

export function registerStation(program: Command): void {
  withLiveOptions(program.command('station'))
    .description(
      'serve the Flashline UI and API to a browser (headless factory stations); loopback only by default',
    )
    .option('--port <n>', 'TCP port (0 picks a free one)', parsePort, 7480)
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option(
      '--allow-remote',
      'allow binding a non-loopback address (HTTPS, prints a warning; the token is still required)',
      false,
    )
    .option(
      '--allow-host <name>',
      "also answer to this host name (e.g. the station's DNS name); repeatable",
      collect(parseHostName),
      [],
    )
    .option('--tls-cert <file>', 'HTTPS certificate (PEM); default off loopback: a kept self-signed one')
    .option('--tls-key <file>', 'private key of --tls-cert (PEM)')
    .option(
      '--packages <dir>',
      'open packages only from this folder (repeatable); default off loopback: <home>/packages and uploads',
      collect(String),
      [],
    )
    .option(
      '--max-upload <size>',
      'largest package upload accepted, e.g. 4GiB',
      parseByteSize,
      DEFAULT_UPLOAD_LIMIT,
    )
    .option('--no-usb', 'do not watch USB for devices')
    .option('--no-serial', 'do not list serial ports')
    .option(
      '--tcp <host:port>',
      'also watch a fastboot TCP endpoint (polled); repeatable',
      collect(parseHostPort),
      [],
    )
    .option(
      '--adb <host:port>',
      'also watch an ADB-over-TCP endpoint, a phone in Android (polled); repeatable',
      collect(parseHostPort),
      [],
    )
    .option(
      '--modem <path>',
      'also identify a modem AT port over AT (offers "enter download mode"); repeatable',
      collect(String),
      [],
    )
    .option(
      '--embed-broker <port>',
      'with no broker configured, run one on 127.0.0.1:PORT for this line (fleet view + local lines)',
      parsePort,
    )
    .option(
      '--edl <id>',
      'also watch a device in Qualcomm EDL: edl:HOST:PORT or serial:PATH (identified once each time it appears; offers "Rescue…"); repeatable',
      collect(parseEdlId),
      [],
    )
    .option('--json', 'print the URL, token and certificate fingerprint as JSON', false)
    .action(async (opts: StationFlags) => {
      const log = (line: string) => process.stderr.write(`${line}\n`);
      // Listen before anything starts: a stop that arrives while starting is a stop, not a crash.
      const interrupted = untilInterrupted(() => 'stopping the station; running jobs stop safely');
      // Refuse a remote bind before discovery starts, not after.
      assertBindAllowed(opts.host, opts.allowRemote);
      const live = await startLiveService({
        mode: 'station',
        usb: opts.usb,
        serial: opts.serial,
        tcp: opts.tcp,
        adb: opts.adb,
        modem: opts.modem,
        edl: opts.edl,
        log,
      });
      let station: Awaited<ReturnType<typeof runStation>>;
      let fleet: Awaited<ReturnType<typeof startStationFleet>> | undefined;
      try {
        // The live bus and the fleet view; nothing starts unless fleet.json, --mqtt or --embed-broker asks.
        fleet = await startStationFleet({
          home: flashlineHome(),
          mqttUrl: opts.mqtt,
          stationName: opts.stationName,
          embedBrokerPort: opts.embedBroker,
          version: FLASHLINE_VERSION,
          sources: { devices: live.service.devices, jobs: live.jobs },
          log,
          readSecretFile,
        });
        station = await runStation({
          host: opts.host,
          port: opts.port,
          allowRemote: opts.allowRemote,
          log,
          service: { ...live.service, fleet: fleet.context },
          allowHosts: opts.allowHost,
          ...(opts.tlsCert ? { tlsCert: opts.tlsCert } : {}),
          ...(opts.tlsKey ? { tlsKey: opts.tlsKey } : {}),
          packageFolders: opts.packages,
          maxUploadBytes: opts.maxUpload,
        });
      } catch (err) {
        await fleet?.stop();
        live.stop();
        throw err;
      }
      const fingerprint = station.tlsFingerprint;
      if (opts.json)
        process.stdout.write(
          `${JSON.stringify({ url: station.url, token: station.token, ...(fingerprint ? { tlsFingerprint: fingerprint } : {}) })}\n`,
        );
      else
        process.stdout.write(
          `Flashline station is running. Open ${station.url}${fingerprint ? `\n  certificate SHA-256 fingerprint ${fingerprint} (check it matches what the browser shows)` : ''}\nPress Ctrl-C to stop.\n`,
        );
      await interrupted;
      await live.service.flash?.stopAllJobs();
      await station.close();
      await fleet.stop();
      live.stop();
    });
}
