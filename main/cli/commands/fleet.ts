/**
 * `flashline fleet init|status|report`: make this station part of a fleet (PostgreSQL for history and unit
 * claims), see how its outbox is doing, and export from the central store (fleet-report.ts).
 */
import type { Command } from 'commander';
import { FlashlineError } from '../../common/errors.js';
import { flashlineHome } from '../../common/paths.js';
import { ReportStore } from '../../flash/report-store.js';
import {
  defaultStationName,
  fleetConfigPath,
  readFleetConfig,
  writeFleetConfig,
} from '../../fleet/config.js';
import { type FleetConfig, fleetConfigSchema } from '../../fleet/contract.js';
import { connectDb, dbProblem, describeDb, readSecretFile } from '../../fleet/db.js';
import { migrate, schemaVersion } from '../../fleet/migrations.js';
import { readOutboxState } from '../../fleet/outbox-state.js';
import { openStationFleet } from '../../fleet/station-fleet.js';
import { registerFleetReport } from './fleet-report.js';

interface InitOptions {
  db?: string;
  dbPasswordFile?: string;
  mqtt?: string;
  mqttPasswordFile?: string;
  station?: string;
  site?: string;
  operator?: string;
}

/** A URL as fleet.json keeps it: no password inside (it comes from the environment or a 0600 file). */
function checkedUrl(url: string, what: 'database' | 'broker', env: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FlashlineError('bad_input', `The ${what} URL '${url.slice(0, 80)}' is not a URL.`);
  }
  if (u.password) {
    throw new FlashlineError(
      'bad_input',
      `Do not put the ${what} password in the URL (it would be stored and shown); give it in ${env} or with a 0600 file (--${what === 'database' ? 'db' : 'mqtt'}-password-file).`,
    );
  }
  return url;
}

/** `{ db: { url, passwordFile? } }` (or mqtt) when a URL is set, else nothing. */
function endpoint(key: 'db' | 'mqtt', url: string | undefined, passwordFile: string | undefined) {
  return url ? { [key]: { url, ...(passwordFile ? { passwordFile } : {}) } } : {};
}

export async function fleetInit(home: string, o: InitOptions, env = process.env): Promise<string> {
  const before = await readFleetConfig(home).catch(() => undefined);
  const db = o.db ? checkedUrl(o.db, 'database', 'FLASHLINE_FLEET_DB_PASSWORD') : before?.db?.url;
  const mqtt = o.mqtt ? checkedUrl(o.mqtt, 'broker', 'FLASHLINE_FLEET_MQTT_PASSWORD') : before?.mqtt?.url;
  if (!db && !mqtt) {
    throw new FlashlineError(
      'bad_input',
      'Give --db postgres://HOST/DB (history, unit claims) and/or --mqtt mqtt://HOST (live view).',
    );
  }
  if (o.dbPasswordFile) await readSecretFile(o.dbPasswordFile); // refuse a readable-by-others file now
  if (o.mqttPasswordFile) await readSecretFile(o.mqttPasswordFile);
  const candidate = {
    version: 1,
    station: o.station ?? before?.station ?? defaultStationName(),
    site: o.site ?? before?.site ?? 'default',
    ...((o.operator ?? before?.operator) ? { operator: o.operator ?? before?.operator } : {}),
    ...endpoint('db', db, o.dbPasswordFile ?? before?.db?.passwordFile),
    ...endpoint('mqtt', mqtt, o.mqttPasswordFile ?? before?.mqtt?.passwordFile),
  };
  const parsed = fleetConfigSchema.safeParse(candidate);
  if (!parsed.success) {
    const i = parsed.error.issues[0];
    throw new FlashlineError('bad_input', `${i?.path.join('.') ?? 'settings'}: ${i?.message ?? 'invalid'}`);
  }
  const config: FleetConfig = parsed.data;
  const lines: string[] = [];
  if (config.db) {
    const sql = await connectDb(config.db, { env, max: 1 });
    try {
      const applied = await migrate(sql);
      const version = await schemaVersion(sql);
      lines.push(
        `database ${describeDb(config.db.url)}: schema version ${version}${applied.length ? ` (applied ${applied.join(', ')})` : ' (up to date)'}`,
      );
    } catch (err) {
      throw new FlashlineError(
        'fleet_db',
        `Cannot set up the schema: ${dbProblem(config.db.url, err)}. Nothing was written.`,
      );
    } finally {
      await sql.end({ timeout: 2 });
    }
  }
  await writeFleetConfig(home, config);
  if (config.mqtt) lines.push(`broker ${config.mqtt.url}`);
  lines.push(`station ${config.station}, site ${config.site}: settings written to ${fleetConfigPath(home)}`);
  return `${lines.join('\n')}\n`;
}

export interface FleetStatus {
  readonly configured: boolean;
  readonly station?: string;
  readonly site?: string;
  readonly database?: string;
  readonly backlog: number;
  readonly lastSyncAt?: string;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
  /** Jobs that ran while the database was unreachable, their duplicate check still to come. */
  readonly pendingChecks: number;
  readonly duplicates: { jobId: string; serial: string; heldBy: string }[];
}

export async function fleetStatus(home: string): Promise<FleetStatus> {
  const config = await readFleetConfig(home);
  const state = await readOutboxState(home);
  const store = ReportStore.forHome(home);
  try {
    return {
      configured: config?.db !== undefined,
      ...(config ? { station: config.station, site: config.site } : {}),
      ...(config?.db ? { database: describeDb(config.db.url) } : {}),
      backlog: config?.db ? await store.backlog(state.syncedThrough) : 0,
      ...(state.lastSyncAt ? { lastSyncAt: state.lastSyncAt } : {}),
      ...(state.lastError ? { lastError: state.lastError, lastErrorAt: state.lastErrorAt } : {}),
      pendingChecks: state.pendingChecks.length,
      duplicates: state.duplicates,
    };
  } finally {
    await store.close();
  }
}

export async function fleetSync(home: string): Promise<string> {
  const fleet = await openStationFleet(home);
  if (!fleet)
    throw new FlashlineError(
      'bad_config',
      "This station has no fleet database; run 'flashline fleet init --db postgres://…' first.",
    );
  const store = ReportStore.forHome(home);
  try {
    const { sent, duplicates } = await fleet.syncNow(store);
    return `${sent} report(s) shipped${duplicates ? `, ${duplicates} duplicate(s) found (see flashline fleet status)` : ''}\n`;
  } catch (err) {
    throw new FlashlineError(
      'fleet_db',
      `Cannot sync: ${dbProblem(fleet.config.db?.url ?? '', err)}; the reports stay queued.`,
    );
  } finally {
    await store.close();
    await fleet.close();
  }
}

function statusText(s: FleetStatus): string {
  if (!s.configured)
    return "This station is not part of a fleet database (run 'flashline fleet init --db postgres://…').\n";
  const out = [
    `station ${s.station} (site ${s.site}) → ${s.database}`,
    `backlog: ${s.backlog} report(s) not yet in the fleet database`,
    `last sync: ${s.lastSyncAt ?? 'never'}`,
    `last error: ${s.lastError ? `${s.lastError} (${s.lastErrorAt})` : 'none'}`,
    `duplicate checks pending: ${s.pendingChecks}`,
    `duplicates found: ${s.duplicates.length}`,
    ...s.duplicates.map(
      (d) => `  job ${d.jobId}: serial ${d.serial} was already flashed on station ${d.heldBy}`,
    ),
  ];
  return `${out.join('\n')}\n`;
}

export function registerFleet(program: Command): void {
  const fleet = program
    .command('fleet')
    .description('this station in a fleet: central history (PostgreSQL), status, reports');
  fleet
    .command('init')
    .description('join a fleet: create or migrate the schema (idempotent) and write <home>/fleet.json (0600)')
    .option(
      '--db <url>',
      'PostgreSQL URL (postgres://USER@HOST:PORT/DB[?sslmode=require]); password from FLASHLINE_FLEET_DB_PASSWORD or --db-password-file',
    )
    .option('--db-password-file <file>', 'file holding the database password (mode 0600)')
    .option('--mqtt <url>', 'MQTT broker URL for the live view (mqtt:// or mqtts://)')
    .option('--mqtt-password-file <file>', 'file holding the broker password (mode 0600)')
    .option('--station <name>', "this station's name (default: the host name)")
    .option('--site <name>', 'the site or line it belongs to (default: default)')
    .option('--operator <name>', 'who runs it (recorded with every job)')
    .action(async (o: InitOptions) => {
      process.stdout.write(await fleetInit(flashlineHome(), o));
    });
  fleet
    .command('status')
    .description('outbox backlog, last sync, last error, duplicates flagged')
    .option('--json', 'print JSON', false)
    .action(async (o: { json: boolean }) => {
      const s = await fleetStatus(flashlineHome());
      process.stdout.write(o.json ? `${JSON.stringify(s)}\n` : statusText(s));
    });
  fleet
    .command('sync')
    .description(
      "ship this station's unsynced reports to the fleet database now (stations also do it on their own)",
    )
    .action(async () => {
      process.stdout.write(await fleetSync(flashlineHome()));
    });
  registerFleetReport(fleet);
}
