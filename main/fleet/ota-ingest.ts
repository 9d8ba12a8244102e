/**
 * The fleet side of the OTA report contract (main/protocol/ota/report.ts): subscribes to the devices' attempt
 * reports on the fleet's broker, keeps each device's newest attempt in memory for the live view, and — when a
 * database is given — writes every report into `fleet_ota_attempts` (seq-guarded upsert, ota-store.ts).
 *
 * With a database the subscription is an MQTT persistent session (fixed client id, clean=false, QoS 1): the
 * broker keeps what devices reported while this ingester was down and delivers it on reconnect. A report is
 * acknowledged only once its row is committed; while the database is away the acknowledgement is held (the
 * broker keeps the message and stops sending more past its in-flight window, so memory here stays flat) and
 * the write is retried; if the connection drops meanwhile the broker delivers the report again.
 * Reports that do not fit are dropped and counted, never stored.
 */
import { EventEmitter } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MqttClient } from 'mqtt';
import { decodeOtaReport, type OtaReport, otaReportFilter } from '../protocol/ota/report.js';
import type { OtaAttempt } from './contract.js';
import type { Sql } from './db.js';
import { openLiveConnection } from './live/connection.js';
import { migrate } from './migrations.js';
import { packageIdOf, storeOtaReport, unusableReport } from './ota-store.js';

export interface OtaLiveSnapshot {
  readonly connected: boolean;
  /** Whether reports go into the fleet database (otherwise they are shown live only). */
  readonly storing: boolean;
  /** Each device's newest attempt, newest report first. */
  readonly devices: OtaAttempt[];
  /** How many devices are held (the API may pass on only the newest of `devices`). */
  readonly devicesKnown: number;
  readonly received: number;
  readonly stored: number;
  /** Repeated or out-of-order reports the database already had newer (harmless, expected). */
  readonly stale: number;
  /** Reports dropped because they did not fit the contract. */
  readonly dropped: number;
  readonly lastDrop?: string | undefined;
  /** Reports received whose row is not committed yet (the database is slow or away). */
  readonly waiting: number;
}

/** What the API reads. */
export interface OtaLiveView {
  snapshot(): OtaLiveSnapshot;
  onChange(listener: () => void): () => void;
}

export interface OtaIngester extends OtaLiveView {
  /** Resolves once the first subscription is granted (tests and the demo wait on it). */
  readonly subscribed: Promise<void>;
  /** Settles once the start-up migration has finished, well or not (at once without a database). */
  readonly schemaChecked: Promise<void>;
  stop(): Promise<void>;
}

export interface OtaIngesterOptions {
  readonly url: string;
  readonly password?: string | undefined;
  /** Only this site's devices; all sites when undefined. */
  readonly site?: string | undefined;
  /** Fixed per station, so the broker can keep the session while the station is down. */
  readonly clientId: string;
  /** The fleet database; without it reports are shown live and not kept. */
  readonly sql?: Sql | undefined;
  readonly log: (line: string) => void;
  /** Longest pause between write attempts while the database is away (ms). */
  readonly maxRetryMs?: number;
}

/** Devices kept for the live view; the least recently heard is forgotten first beyond this. */
export const MAX_LIVE_DEVICES = 2000;

function toAttempt(site: string, r: OtaReport): OtaAttempt {
  return {
    attemptId: r.attemptId,
    seq: r.seq,
    site,
    serial: r.serial,
    product: r.product,
    fromVersion: r.fromVersion,
    packageId: packageIdOf(r),
    packageVersion: r.package.version,
    phase: r.phase,
    status: r.status,
    statusName: r.statusName,
    message: r.message,
    bytesDone: r.bytesDone,
    bytesTotal: r.bytesTotal,
    startedAt: r.startedAt,
    at: r.at,
  };
}

/** Whether `next` says something newer about the device than `held`. */
function newer(held: OtaAttempt | undefined, next: OtaAttempt): boolean {
  if (!held) return true;
  if (held.attemptId === next.attemptId) return next.seq > held.seq;
  return Date.parse(next.startedAt) >= Date.parse(held.startedAt);
}

export function startOtaIngester(options: OtaIngesterOptions): OtaIngester {
  const events = new EventEmitter();
  const devices = new Map<string, OtaAttempt>();
  const counts = { received: 0, stored: 0, stale: 0, dropped: 0, waiting: 0 };
  let lastDrop: string | undefined;
  let stopped = false;
  // Bumped on every connect: a write still retrying for an older connection gives up (its report comes again).
  let generation = 0;
  let migrated: Promise<unknown> | undefined;
  let lastDbError = '';
  const changed = () => events.emit('change');
  const sql = options.sql;
  const maxRetryMs = options.maxRetryMs ?? 5000;

  // The schema this needs (migration 2) is applied on start, not at the first report: a station joined to
  // the fleet before OTA existed gets it without running 'fleet init' again. A failure is retried per report.
  const ensureSchema = (db: Sql): Promise<unknown> =>
    (migrated ??= migrate(db).catch((err: unknown) => {
      migrated = undefined;
      throw err;
    }));
  const schemaChecked = sql
    ? ensureSchema(sql).then(
        () => undefined,
        () => undefined,
      )
    : Promise.resolve();

  const remember = (site: string, report: OtaReport) => {
    const attempt = toAttempt(site, report);
    const key = JSON.stringify([site, report.serial]);
    if (!newer(devices.get(key), attempt)) return;
    devices.delete(key);
    devices.set(key, attempt);
    if (devices.size > MAX_LIVE_DEVICES) {
      const oldest = devices.keys().next().value;
      if (oldest !== undefined) devices.delete(oldest);
    }
  };

  /** Store one report; resolves true when it may be acknowledged. */
  const store = async (site: string, report: OtaReport, gen: number): Promise<boolean> => {
    if (!sql) return true;
    counts.waiting += 1;
    try {
      for (let pause = 250; ; pause = Math.min(pause * 2, maxRetryMs)) {
        try {
          await ensureSchema(sql);
          const outcome = await storeOtaReport(sql, site, report);
          counts[outcome] += 1;
          lastDbError = '';
          return true;
        } catch (err) {
          const message = err instanceof Error ? err.message : String(err);
          if (message !== lastDbError) {
            lastDbError = message;
            options.log(`OTA reports: the fleet database failed (${message}); holding reports, retrying`);
          }
          if (stopped || gen !== generation) return false;
          await sleep(pause);
          if (stopped || gen !== generation) return false;
        }
      }
    } finally {
      counts.waiting -= 1;
      changed();
    }
  };

  const handle = async (topic: string, payload: Buffer, gen: number): Promise<boolean> => {
    counts.received += 1;
    const decoded = decodeOtaReport(topic, payload);
    const why = decoded.ok ? unusableReport(decoded.report) : decoded.why;
    if (!decoded.ok || why) {
      counts.dropped += 1;
      lastDrop = why;
      changed();
      // It will never fit: acknowledging it is dropping it.
      return true;
    }
    remember(decoded.site, decoded.report);
    changed();
    return await store(decoded.site, decoded.report, gen);
  };

  let resolveSubscribed: () => void = () => undefined;
  const subscribed = new Promise<void>((r) => {
    resolveSubscribed = r;
  });
  const client: MqttClient = openLiveConnection({
    url: options.url,
    ...(options.password !== undefined ? { password: options.password } : {}),
    clientId: options.clientId,
    // A persistent session only makes sense when the reports are kept.
    clean: !sql,
    purpose: 'OTA reports',
    log: options.log,
    onConnect: (c) => {
      generation += 1;
      changed();
      c.subscribe(otaReportFilter(options.site), { qos: 1 }, (err) => {
        if (err) options.log(`OTA reports: cannot subscribe: ${err.message}`);
        else resolveSubscribed();
      });
    },
  });
  // The acknowledgement (PUBACK) goes out when the callback is called: only after the row is committed.
  client.handleMessage = (packet, callback) => {
    const gen = generation;
    void handle(packet.topic, Buffer.from(packet.payload), gen).then((ack) => {
      if (ack && gen === generation && !stopped) callback();
    });
  };
  client.on('close', changed);

  return {
    subscribed,
    schemaChecked,
    snapshot: () => ({
      connected: client.connected,
      storing: Boolean(sql),
      devices: [...devices.values()].reverse(),
      devicesKnown: devices.size,
      ...counts,
      ...(lastDrop ? { lastDrop } : {}),
    }),
    onChange(listener) {
      events.on('change', listener);
      return () => events.off('change', listener);
    },
    async stop() {
      stopped = true;
      events.removeAllListeners();
      await client.endAsync().catch(() => undefined);
    },
  };
}
