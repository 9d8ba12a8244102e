/**
 * Wires the live bus into a composition root (`flashline station`, `flashline line`): which broker (the
 * station's fleet.json, `--mqtt URL`, or the embedded one), under which site/station name, the publisher on
 * the registry and the job events, and — for a station serving the UI — the dashboard subscriber and the
 * central history for the fleet view. With none of it configured nothing starts: exactly a single station.
 */
import type { FleetContext } from '../api/fleet-context.js';
import { FlashlineError } from '../common/errors.js';
import { defaultStationName, readFleetConfig } from '../fleet/config.js';
import type { FleetConfig } from '../fleet/contract.js';
import { connectDb, type Sql } from '../fleet/db.js';
import {
  type EmbeddedBroker,
  type LiveDashboard,
  type LivePublisher,
  type LiveSources,
  NAME_PATTERN,
  startEmbeddedBroker,
  startLiveDashboard,
  startLivePublisher,
} from '../fleet/live/index.js';
import { PgFleetQueries } from '../fleet/queries.js';
import { startStationOta } from './fleet-ota.js';

export const MQTT_PASSWORD_ENV = 'FLASHLINE_FLEET_MQTT_PASSWORD';

export interface FleetLiveOptions {
  /** The home's fleet.json, if any. */
  readonly config: FleetConfig | undefined;
  /** `--mqtt URL`: this broker instead of fleet.json's. */
  readonly mqttUrl?: string | undefined;
  /** `--station-name NAME`: this name on the bus instead of fleet.json's (or the host name). */
  readonly stationName?: string | undefined;
  /** `--embed-broker PORT` (station only): run a broker on loopback and use it when none is configured. */
  readonly embedBrokerPort?: number | undefined;
  readonly role: 'station' | 'line';
  readonly version: string;
  readonly sources: LiveSources;
  /** A station serving the UI subscribes to the whole site for its fleet view. */
  readonly dashboard: boolean;
  readonly log: (line: string) => void;
  readonly env?: NodeJS.ProcessEnv;
  /** Reads the mqtt passwordFile of fleet.json (0600 enforced); injected so this stays free of fs rules. */
  readonly readSecretFile?: (path: string) => Promise<string>;
}

export interface FleetLive {
  /** For the API's fleet view (the live part; the composition root adds the history). */
  readonly context: FleetContext;
  /** The broker in use, for the log ("mqtt://127.0.0.1:1883"), when there is one. */
  readonly brokerUrl?: string;
  /** Its password (environment or 0600 file), for other connections of this station to the same broker. */
  readonly brokerPassword?: string | undefined;
  /** Where this station stands on the bus. */
  readonly address?: { readonly site: string; readonly station: string };
  stop(): Promise<void>;
}

export function checkStationName(name: string): string {
  if (!NAME_PATTERN.test(name)) {
    throw new FlashlineError(
      'bad_input',
      `'${name}' cannot name a station on the live bus: use letters, digits, dot, dash or underscore (at most 100).`,
    );
  }
  return name;
}

export async function startFleetLive(options: FleetLiveOptions): Promise<FleetLive> {
  const env = options.env ?? process.env;
  let embedded: EmbeddedBroker | undefined;
  const configured = options.mqttUrl ?? options.config?.mqtt?.url;
  if (!configured && options.embedBrokerPort !== undefined) {
    embedded = await startEmbeddedBroker(options.embedBrokerPort).catch((err: NodeJS.ErrnoException) => {
      throw new FlashlineError(
        err.code === 'EADDRINUSE' ? 'port_in_use' : 'unavailable',
        err.code === 'EADDRINUSE'
          ? `Port ${options.embedBrokerPort} on 127.0.0.1 is already in use; pick another with --embed-broker PORT.`
          : `The embedded broker could not start: ${err.message}.`,
      );
    });
    options.log(
      `Embedded MQTT broker on ${embedded.url} (loopback only; lines on this machine: --mqtt ${embedded.url})`,
    );
  }
  const url = configured ?? embedded?.url;
  if (!url) return { context: {}, stop: async () => undefined };
  const passwordFile = options.mqttUrl ? undefined : options.config?.mqtt?.passwordFile;
  const password =
    env[MQTT_PASSWORD_ENV] ??
    (passwordFile && options.readSecretFile ? await options.readSecretFile(passwordFile) : undefined);
  const address = {
    site: options.config?.site ?? 'default',
    station: checkStationName(options.stationName ?? options.config?.station ?? defaultStationName()),
  };
  const publisher: LivePublisher = startLivePublisher({
    url,
    password,
    address,
    role: options.role,
    version: options.version,
    sources: options.sources,
    log: options.log,
  });
  options.log(`Live bus: publishing as flashline/${address.site}/${address.station}/…`);
  let dashboard: LiveDashboard | undefined;
  if (options.dashboard) {
    dashboard = startLiveDashboard({
      url,
      password,
      site: address.site,
      log: options.log,
      brokerLabel: new URL(url).host,
    });
  }
  return {
    context: dashboard ? { live: dashboard } : {},
    brokerUrl: url,
    brokerPassword: password,
    address,
    async stop() {
      await publisher.stop();
      await dashboard?.stop();
      await embedded?.stop();
    },
  };
}

/**
 * The fleet of a station serving the UI: the live bus (publisher + dashboard), the OTA reports of devices on
 * the same broker (fleet-ota.ts) and, when fleet.json (or `db`) names a database, the central history for the
 * fleet and rollout views. A database that cannot be opened leaves the views without history (said in the log
 * and on the screen), the station keeps running.
 */
export async function startStationFleet(
  options: Omit<FleetLiveOptions, 'config' | 'role' | 'dashboard'> & {
    readonly home: string;
    /** This database instead of fleet.json's (the demo's `--fleet-db`). */
    readonly db?: { readonly url: string } | undefined;
  },
): Promise<FleetLive> {
  const config = await readFleetConfig(options.home);
  const live = await startFleetLive({ ...options, config, role: 'station', dashboard: true });
  const db = options.db ?? config?.db;
  let sql: Sql | undefined;
  if (db) {
    try {
      // postgres connects lazily: a database that is down shows as a problem on the screen, not here.
      sql = await connectDb(db, { max: 4, ...(options.env ? { env: options.env } : {}) });
    } catch (err) {
      options.log(`Fleet view: no central history (${err instanceof Error ? err.message : String(err)})`);
    }
  }
  const queries = sql ? new PgFleetQueries(sql, false) : undefined;
  const ota =
    live.brokerUrl && live.address
      ? startStationOta({
          brokerUrl: live.brokerUrl,
          password: live.brokerPassword,
          ...live.address,
          sql,
          log: options.log,
        })
      : undefined;
  return {
    ...live,
    context: { ...live.context, ...(queries ? { queries } : {}), ...ota?.context },
    async stop() {
      await ota?.stop();
      await live.stop();
      await sql?.end({ timeout: 5 });
    },
  };
}
