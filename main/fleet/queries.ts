/**
 * FleetQueries over PostgreSQL. (Stub until FLEET-QUERIES: the signature is final.)
 */
import { FlashlineError } from '../common/errors.js';
import type { FleetConfig, FleetQueries } from './contract.js';

export interface OpenFleetQueries extends FleetQueries {
  close(): Promise<void>;
}

/** Open the queries on the database of a station's fleet settings (password from env or file). */
export async function openFleetQueries(
  config: FleetConfig,
  _env: NodeJS.ProcessEnv = process.env,
): Promise<OpenFleetQueries> {
  throw new FlashlineError(
    'not_implemented',
    `fleet queries are not implemented yet (station ${config.station})`,
  );
}
