/**
 * The connection to the fleet database: `postgres` (porsager) with the password from the environment or a
 * 0600 file (never from fleet.json, never printed) and TLS as the URL says (`sslmode=require|verify-full`).
 * A failure to connect becomes a sentence naming host and port, without credentials.
 */
import { promises as fs } from 'node:fs';
import postgres from 'postgres';
import { FlashlineError } from '../common/errors.js';
import type { FleetConfig } from './contract.js';

export type Sql = postgres.Sql;

export const DB_PASSWORD_ENV = 'FLASHLINE_FLEET_DB_PASSWORD';

/** Read a credential file, refusing one that others can read (the password would leak on a shared station). */
export async function readSecretFile(path: string): Promise<string> {
  let stat: import('node:fs').Stats;
  try {
    stat = await fs.stat(path);
  } catch {
    throw new FlashlineError('bad_config', `The password file ${path} does not exist or cannot be read.`);
  }
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    throw new FlashlineError(
      'bad_config',
      `The password file ${path} can be read by other users (mode ${(stat.mode & 0o777).toString(8)}); run 'chmod 600 ${path}'.`,
    );
  }
  return (await fs.readFile(path, 'utf8')).replace(/\r?\n$/, '');
}

/** Where the URL points, for messages (no user, no password). */
export function describeDb(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return 'the fleet database';
  }
}

export interface ConnectOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Pool size (the outbox and claims need 1–2; queries for the UI a few). */
  readonly max?: number;
  /** Seconds to wait for a connection before the operation fails (the station falls back, never hangs). */
  readonly connectTimeout?: number;
}

export async function connectDb(
  db: NonNullable<FleetConfig['db']>,
  options: ConnectOptions = {},
): Promise<Sql> {
  const env = options.env ?? process.env;
  const password =
    env[DB_PASSWORD_ENV] ?? (db.passwordFile ? await readSecretFile(db.passwordFile) : undefined);
  return postgres(db.url, {
    max: options.max ?? 2,
    connect_timeout: options.connectTimeout ?? 5,
    idle_timeout: 30,
    onnotice: () => undefined,
    ...(password !== undefined ? { password } : {}),
  });
}

/** A database error as a sentence for the technician (host and port, never the credentials). */
export function dbProblem(url: string, err: unknown): string {
  const e = err as { code?: string; message?: string };
  const where = describeDb(url);
  if (e.code === 'ECONNREFUSED' || e.code === 'CONNECT_TIMEOUT' || e.code === 'ETIMEDOUT')
    return `the fleet database at ${where} is not reachable (${e.code})`;
  if (e.code === '28P01' || e.code === '28000')
    return `the fleet database at ${where} refused the login (${e.code})`;
  return `the fleet database at ${where} failed: ${e.message ?? String(err)}`;
}
