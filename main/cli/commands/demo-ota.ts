/**
 * `flashline demo --ota`: the closed loop on one machine. A local signed repository (`repo init/add/publish/
 * serve`) holds the demo package; virtual devices run OTA agents that poll it, update themselves and report
 * every attempt over MQTT (the station's broker: fleet.json's, else an embedded one); the station ingests the
 * reports (fleet database: `--fleet-db`, fleet.json's, else a throw-away PostgreSQL when its binaries are
 * installed) and its fleet view shows the codes arriving and the rollout filling. Meanwhile the station syncs
 * the same package through a mirror that drops the connection once, so the log shows the ranged resume.
 * `startOtaDemo` is what the demo's test builds on.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import {
  startVirtualDevice,
  type VirtualDeviceHandle,
  type VirtualDeviceOptions,
} from '../../../virtual-device/index.js';
import { flashlineHome, resourcesDir } from '../../common/paths.js';
import { FLASHLINE_VERSION } from '../../common/version.js';
import { DeviceRegistry } from '../../devices/index.js';
import { FlashService } from '../../flash/service.js';
import { readFleetConfig } from '../../fleet/config.js';
import { readSecretFile } from '../../fleet/db.js';
import type { LiveSources } from '../../fleet/live/index.js';
import { loadTrustStore } from '../../package/index.js';
import type { OtaReport } from '../../protocol/ota/report.js';
import { addPackage, initRepository, publish } from '../../repo/repository.js';
import { type RepoServer, serveRepository } from '../../repo/serve.js';
import { shippedRootPath } from '../../repo/state.js';
import { type SyncResult, syncRepository } from '../../repo/sync.js';
import { stationCatalog } from '../../station/catalog.js';
import { type FleetLive, startStationFleet } from '../../station/fleet-live.js';
import { createService, runStation } from '../../station/run-station.js';
import { DEMO_PARTITIONS, type DemoPackageSpec, makeDemoPackage } from '../demo-package.js';
import { untilInterrupted } from '../options.js';
import { type DroppingMirror, startDroppingMirror } from './demo-mirror.js';
import { findPostgresBin, startThrowawayPostgres, type ThrowawayPostgres } from './demo-postgres.js';

const MiB = 1024 * 1024;

export interface OtaDemoOptions {
  /** Devices updating over the air (serials OTA001, …); from the third on, one fails its new slot's boot. */
  readonly devices: number;
  /** Working folder (emptied first): repository, package, throw-away database, the sync's cache. */
  readonly dir: string;
  /** The station's home (its fleet.json, if any, names the broker and database). */
  readonly home: string;
  /** `--fleet-db URL`: this database instead of fleet.json's or a throw-away one. */
  readonly fleetDb?: string | undefined;
  /** Seconds between the agents' polls. */
  readonly intervalSeconds: number;
  readonly version: string;
  /** What the station's live bus publishes (its devices and jobs). */
  readonly sources: LiveSources;
  readonly log: (line: string) => void;
  /** Tests: smaller devices and package, no throw-away database. */
  readonly device?: Partial<VirtualDeviceOptions>;
  readonly pkg?: DemoPackageSpec;
  readonly throwawayDb?: boolean;
}

export interface OtaDemo {
  /** The station's fleet (live bus, OTA ingester, history) for the API. */
  readonly fleet: FleetLive;
  readonly devices: readonly VirtualDeviceHandle[];
  readonly repoUrl: string;
  readonly mirror: DroppingMirror;
  /** Where the fleet history lives, for the banner. */
  readonly history: string;
  /** The station's sync of the same package through the dropping mirror. */
  readonly sync: Promise<SyncResult>;
  /** Each device's newest report as its agent queued it (what the fleet should end up holding). */
  lastReports(): ReadonlyMap<string, OtaReport>;
  stop(): Promise<void>;
}

/** The fleet database: `--fleet-db`, else fleet.json's, else a throw-away one when PostgreSQL is installed. */
async function chooseDatabase(
  o: OtaDemoOptions,
): Promise<{ url?: string; history: string; pg?: ThrowawayPostgres }> {
  if (o.fleetDb) return { url: o.fleetDb, history: 'the database of --fleet-db' };
  if ((await readFleetConfig(o.home))?.db) return { history: "the fleet database of this home's fleet.json" };
  const bin = o.throwawayDb === false ? undefined : findPostgresBin();
  if (!bin) {
    return {
      history:
        "none: no --fleet-db, no fleet.json database and no PostgreSQL server binaries (initdb, pg_ctl) found. The devices' codes still show live; for the rollout per package install PostgreSQL (apt-get install postgresql) or pass --fleet-db postgres://…",
    };
  }
  o.log(`No fleet database configured: starting a throw-away PostgreSQL (${bin}) for the demo…`);
  try {
    const pg = await startThrowawayPostgres(bin);
    return { url: pg.url, history: `a throw-away PostgreSQL (${pg.url}), removed when the demo stops`, pg };
  } catch (err) {
    const why = (err instanceof Error ? err.message : String(err)).split('\n').slice(-2).join(' ').trim();
    return {
      history: `none: the throw-away PostgreSQL did not start (${why}). The devices' codes still show live; pass --fleet-db postgres://… for the rollout per package`,
    };
  }
}

/** A repository holding the demo package, served on loopback; returns the server and its root.json. */
async function demoRepository(o: OtaDemoOptions): Promise<{ server: RepoServer; root: string }> {
  const pkg = await makeDemoPackage(join(o.dir, 'flashline-demo.flp'), o.pkg);
  const repoDir = join(o.dir, 'repo');
  await initRepository(repoDir);
  await addPackage(repoDir, pkg, await loadTrustStore({ dirs: [join(resourcesDir, 'keys')] }));
  await publish(repoDir);
  return { server: await serveRepository(repoDir), root: shippedRootPath(repoDir) };
}

export async function startOtaDemo(o: OtaDemoOptions): Promise<OtaDemo> {
  await fs.rm(o.dir, { recursive: true, force: true });
  await fs.mkdir(o.dir, { recursive: true });
  const cleanups: (() => Promise<unknown>)[] = [];
  const stop = async () => {
    for (const c of cleanups.reverse()) await c().catch(() => undefined);
  };
  try {
    const { server, root } = await demoRepository(o);
    cleanups.push(() => server.close());
    o.log(`Repository with the demo package: ${server.url} (root of trust ${root})`);
    const db = await chooseDatabase(o);
    if (db.pg) cleanups.push(() => db.pg?.destroy() ?? Promise.resolve());
    const fleet = await startStationFleet({
      home: o.home,
      db: db.url ? { url: db.url } : undefined,
      embedBrokerPort: 0,
      version: o.version,
      sources: o.sources,
      log: o.log,
      readSecretFile,
    });
    cleanups.push(() => fleet.stop());
    if (!fleet.brokerUrl || !fleet.address) throw new Error('the station has no broker');
    const devices: VirtualDeviceHandle[] = [];
    const last = new Map<string, OtaReport>();
    cleanups.push(() => Promise.all(devices.map((d) => d.stop())));
    for (let i = 0; i < o.devices; i++) {
      const serial = `OTA${String(i + 1).padStart(3, '0')}`;
      const d = await startVirtualDevice({
        serial,
        partitions: DEMO_PARTITIONS,
        maxDownloadSize: 8 * MiB,
        bootDelayMs: 200,
        tcp: false,
        // One device in three boots its new slot badly: its agent falls back and reports a 4x code.
        ...(i % 3 === 2 ? { faults: { badBoot: ['b'] } } : {}),
        ...o.device,
        ota: {
          url: server.url,
          root,
          trust: [join(resourcesDir, 'keys')],
          intervalSeconds: o.intervalSeconds,
          report: fleet.brokerUrl,
          site: fleet.address.site,
        },
      });
      d.ota?.on('problem', (line) => o.log(`${serial}: ${line}`));
      d.ota?.on('report', (r) => {
        last.set(serial, r);
        if (r.phase === 'done' || r.phase === 'failed')
          o.log(
            `${serial}: update to ${r.package.version} ${r.phase}, status ${r.status} ${r.statusName ?? ''}`,
          );
      });
      devices.push(d);
    }
    const mirror = await startDroppingMirror(server.url, o.log);
    cleanups.push(() => mirror.close());
    const sync = syncThroughMirror(o, mirror, root);
    sync.catch(() => undefined);
    return {
      fleet,
      devices,
      repoUrl: server.url,
      mirror,
      history: db.history,
      sync,
      lastReports: () => last,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** The station's side: `flashline sync` of the same package through the mirror, into a cache of its own. */
async function syncThroughMirror(o: OtaDemoOptions, mirror: DroppingMirror, root: string) {
  o.log(`Station sync through the mirror ${mirror.url} (it drops the connection once)…`);
  const result = await syncRepository({
    repoUrl: mirror.url,
    rootFile: root,
    home: join(o.dir, 'sync-home'),
    trust: await loadTrustStore({ dirs: [join(resourcesDir, 'keys')] }),
  });
  for (const p of result.packages)
    o.log(
      `Station sync: ${p.name} ${p.package.version} verified and placed in the cache (${p.path}) after ${mirror.drops()} dropped connection(s)`,
    );
  return result;
}

export interface OtaDemoFlags {
  readonly devices: number;
  readonly port: number;
  readonly fleetDb?: string | undefined;
  readonly otaInterval: number;
}

/** `flashline demo --ota`: the loop above behind the station UI, until Ctrl-C. */
export async function runOtaDemo(flags: OtaDemoFlags): Promise<number> {
  const log = (line: string) => process.stderr.write(`${line}\n`);
  const interrupted = untilInterrupted(() => 'stopping the OTA demo');
  const registry = new DeviceRegistry();
  const flash = new FlashService({ concurrency: 8, devices: registry });
  log('Starting the OTA demo: repository, broker, fleet store, devices with OTA agents…');
  const demo = await startOtaDemo({
    devices: flags.devices,
    dir: join(flashlineHome(), 'demo-ota'),
    home: flashlineHome(),
    fleetDb: flags.fleetDb,
    intervalSeconds: flags.otaInterval,
    version: FLASHLINE_VERSION,
    sources: { devices: registry, jobs: flash.manager },
    log,
  });
  try {
    const station = await runStation({
      host: '127.0.0.1',
      port: flags.port,
      allowRemote: false,
      log,
      service: {
        ...createService({
          devices: registry,
          demo: true,
          flash,
          catalog: stationCatalog(flashlineHome(), flash),
        }),
        fleet: demo.fleet.context,
      },
    });
    process.stdout.write(
      [
        '',
        'Flashline OTA demo is running.',
        `  Open ${station.url} → Fleet: the devices' status codes arrive under "Rollout"`,
        `  Repository: ${demo.repoUrl} (the devices poll it every ${flags.otaInterval} s)`,
        `  Devices: ${demo.devices.map((d) => d.serial).join(', ')} (every third one's new slot fails to boot: it falls back and reports a 4x code)`,
        `  Broker: ${demo.fleet.brokerUrl}`,
        `  Fleet history: ${demo.history}`,
        '',
        'Press Ctrl-C to stop.',
        '',
      ].join('\n'),
    );
    await interrupted;
    await station.close();
    return 0;
  } finally {
    await demo.stop();
  }
}
