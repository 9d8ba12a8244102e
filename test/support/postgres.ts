/**
 * A throw-away PostgreSQL cluster for tests and benchmarks: the same one the OTA demo starts
 * (main/cli/commands/demo-postgres.ts), ~1.5 s to a ready cluster, stopped by its PID.
 */
import {
  findPostgresBin,
  startThrowawayPostgres,
  type ThrowawayPostgres,
} from '../../main/cli/commands/demo-postgres.js';

export { freePort } from '../../main/cli/commands/demo-postgres.js';
export type PgCluster = ThrowawayPostgres;

export async function startPostgres(): Promise<PgCluster> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL server binaries not found; apt-get install postgresql');
  return await startThrowawayPostgres(bin);
}
