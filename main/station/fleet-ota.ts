/**
 * The OTA half of a station's fleet view: the ingester of the devices' attempt reports (main/fleet/
 * ota-ingest.ts) on the station's broker and, with a fleet database, the rollout per package from it.
 * With a database the ingester's session is persistent under a client id fixed per site and station, so
 * reports sent while the station was down arrive when it comes back. Without a database the reports are
 * shown live and not kept.
 */
import type { FleetContext } from '../api/fleet-context.js';
import type { Sql } from '../fleet/db.js';
import { type OtaIngester, startOtaIngester } from '../fleet/ota-ingest.js';
import { PgRolloutQueries } from '../fleet/rollout-queries.js';

export interface StationOtaOptions {
  readonly brokerUrl: string;
  readonly password?: string | undefined;
  readonly site: string;
  readonly station: string;
  /** The fleet database (the caller owns and closes it). */
  readonly sql?: Sql | undefined;
  readonly log: (line: string) => void;
}

export interface StationOta {
  readonly context: Pick<FleetContext, 'ota' | 'rollout'>;
  readonly ingester: OtaIngester;
  stop(): Promise<void>;
}

/** The broker keeps one session per client id: one per station and site, the same across restarts. */
export function otaClientId(site: string, station: string): string {
  return `flashline-ota-ingest/${site}/${station}`;
}

export function startStationOta(options: StationOtaOptions): StationOta {
  const ingester = startOtaIngester({
    url: options.brokerUrl,
    password: options.password,
    site: options.site,
    clientId: otaClientId(options.site, options.station),
    sql: options.sql,
    log: options.log,
  });
  options.log(
    `OTA reports: ${options.sql ? 'storing' : 'showing (no fleet database: not kept)'} flashline-ota/${options.site}/…`,
  );
  return {
    context: {
      ota: ingester,
      ...(options.sql ? { rollout: new PgRolloutQueries(options.sql) } : {}),
    },
    ingester,
    stop: () => ingester.stop(),
  };
}
