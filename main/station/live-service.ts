/**
 * The service of a real session (`flashline station`, the desktop app): USB devices and serial ports
 * discovered live into the registry, and the flash engine. The demo and tests compose their own with
 * createService (virtual devices, fakes).
 */
import { join } from 'node:path';
import { RescueJobs } from '../api/rescue-jobs.js';
import type { ServiceContext } from '../api/service.js';
import { installFaultPolicy } from '../common/fault-policy.js';
import { flashlineHome } from '../common/paths.js';
import { type AdbEndpointSpec, adbSource } from '../devices/adb-endpoints.js';
import {
  DeviceRegistry,
  type DeviceSource,
  edlSource,
  endpointSource,
  modemSource,
  serialSource,
  startDiscovery,
  type TcpEndpointSpec,
  tcpSource,
  usbSource,
} from '../devices/index.js';
import { endpointForId } from '../devices/named-endpoints.js';
import type { JobEvent } from '../flash/events.js';
import { runRescue } from '../flash/rescue/index.js';
import { FlashService } from '../flash/service.js';
import { openStationFleet } from '../fleet/station-fleet.js';
import { stationCatalog } from './catalog.js';
import { createService } from './run-station.js';

export interface LiveServiceOptions {
  readonly mode: ServiceContext['mode'];
  /** Watch USB (hotplug). */
  readonly usb: boolean;
  /** List the system's serial ports. */
  readonly serial: boolean;
  readonly log: (line: string) => void;
  /** Fastboot TCP endpoints to watch (`--tcp`), polled until they answer and again after they vanish. */
  readonly tcp?: readonly TcpEndpointSpec[];
  /** ADB TCP endpoints to watch (`--adb`: phones in Android), polled the same way. */
  readonly adb?: readonly AdbEndpointSpec[];
  /** Modem AT ports (`--modem`): identified over AT once at start, offered "enter download mode". */
  readonly modem?: readonly string[];
  /** Ports of devices in EDL (`--edl`: `edl:HOST:PORT`, `serial:PATH`): identified once per appearance. */
  readonly edl?: readonly string[];
}

/** How often named endpoints are probed: a phone rebooted into fastboot shows up within this. */
const ENDPOINT_POLL_MS = 1000;

export interface LiveService {
  readonly service: ServiceContext;
  /** Sources that could not start (e.g. no USB access), one line each; already logged. */
  readonly problems: readonly string[];
  /** The job manager's events, for in-process listeners such as the fleet's live bus publisher. */
  readonly jobs: { subscribe(listener: (e: JobEvent) => void): () => void };
  stop(): void;
}

export async function startLiveService(options: LiveServiceOptions): Promise<LiveService> {
  // A rejection nobody awaited fails the job it belongs to and is logged; the station keeps serving.
  installFaultPolicy({ log: options.log });
  const devices = new DeviceRegistry();
  const sources: DeviceSource[] = [];
  if (options.usb) sources.push(usbSource());
  // Ports named as modems or EDL devices are theirs: the listing must not relabel them.
  const owned = [
    ...(options.modem ?? []),
    ...(options.edl ?? []).flatMap((id) => (id.startsWith('serial:') ? [id.slice(7)] : [])),
  ];
  if (options.serial) sources.push(serialSource({ skip: owned }));
  if (options.tcp?.length) sources.push(tcpSource(options.tcp, { pollIntervalMs: ENDPOINT_POLL_MS }));
  if (options.modem?.length) sources.push(modemSource({ paths: options.modem }));
  if (options.adb?.length) sources.push(adbSource(options.adb, { pollIntervalMs: ENDPOINT_POLL_MS }));
  if (options.edl?.length) sources.push(edlSource({ ids: options.edl }));
  // A station of a fleet claims units and ships its reports to the fleet database (main/fleet); a bad
  // fleet.json stops the start here, before anything runs.
  const fleet = await openStationFleet(flashlineHome());
  const discovery = await startDiscovery(devices, sources);
  // A missing USB bus or serial listing is worth a line, not a failure: TCP and the other source still work.
  for (const problem of discovery.problems) options.log(`Device discovery: ${problem}`);
  const flash = new FlashService({ devices, ...fleet?.serviceOptions });
  fleet?.start(flash.reports, flash.manager);
  const stopped = new AbortController();
  const rescue = new RescueJobs({
    devices,
    run: runRescue,
    backupRoot: join(flashlineHome(), 'backups'),
    // A rescued device comes back in fastboot: from then on it is watched like a --tcp endpoint.
    onCameBack: (id) => {
      const endpoint = endpointForId(id);
      if (!endpoint || devices.get(id)) return;
      options.log(`Rescued device is back as ${id}`);
      void startDiscovery(
        devices,
        [endpointSource([endpoint], { name: 'rescued', pollIntervalMs: ENDPOINT_POLL_MS })],
        {
          signal: stopped.signal,
        },
      );
    },
  });
  return {
    service: createService({
      mode: options.mode,
      devices,
      flash,
      rescue,
      catalog: stationCatalog(flashlineHome(), flash),
    }),
    problems: discovery.problems,
    jobs: flash.manager,
    stop: () => {
      stopped.abort();
      discovery.stop();
      void fleet?.close();
    },
  };
}
