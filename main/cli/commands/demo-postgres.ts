/**
 * The OTA demo's throw-away fleet database, for a machine with PostgreSQL's server binaries but no fleet
 * configured: `initdb` into a temp folder, `pg_ctl start` on a free loopback port (socket in that folder,
 * trust authentication, fsync off — nothing here is worth keeping), stopped with `pg_ctl stop` when the demo
 * ends. Demo only: the product never starts a database; a fleet names its own (`flashline fleet init --db`).
 * The binaries are looked for on PATH and where Debian keeps them (/usr/lib/postgresql/<version>/bin); as root
 * they run as the `postgres` user (PostgreSQL refuses to run as root).
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface DemoPostgres {
  readonly url: string;
  stop(): Promise<void>;
}

/** The folder holding initdb and pg_ctl, or undefined when PostgreSQL's server is not installed. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean);
  const debianRoot = join('/usr', 'lib', 'postgresql');
  const debian = existsSync(debianRoot)
    ? readdirSync(debianRoot)
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => join(debianRoot, v, 'bin'))
    : [];
  return [...onPath, ...debian].find(
    (dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')),
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Start a cluster in a fresh folder of the system's temp dir (removed by stop): there the `postgres` user can
 * reach it when the demo runs as root, which a private home folder would not allow.
 */
export async function startDemoPostgres(bin: string): Promise<DemoPostgres> {
  const asRoot = process.getuid?.() === 0;
  const dir = await fs.mkdtemp(join(tmpdir(), 'flashline-demo-pg-'));
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { cwd: dir })
      : run(join(bin, tool), args, { cwd: dir });
  if (asRoot) await run('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'flashline', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off`;
  await pg('pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'server.log'), '-w', 'start']);
  return {
    url: `postgres://flashline@127.0.0.1:${port}/postgres`,
    async stop() {
      await pg('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']).catch(() => undefined);
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
