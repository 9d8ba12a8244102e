/**
 * A throw-away PostgreSQL cluster: `initdb` into a temp folder, `pg_ctl start` on a free loopback port (socket
 * in that folder, trust authentication, fsync off — nothing here is worth keeping), stopped by the PID in
 * `postmaster.pid`. Used by the OTA demo on a machine with PostgreSQL's server binaries but no fleet configured,
 * and by the tests and benchmarks (test/support/postgres.ts). The product itself never starts a database; a
 * fleet names its own (`flashline fleet init --db`).
 * The binaries are looked for where Debian keeps them (/usr/lib/postgresql/<newest>/bin: what a fresh machine
 * gets from `apt-get install postgresql`), then on PATH. PostgreSQL refuses to run as root, so as root they
 * run as the `postgres` user, in a folder of the system's temp dir that user owns.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface ThrowawayPostgres {
  /** Connection URL (trust authentication, user `flashline`, database `postgres`). */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The postmaster's PID while running. */
  pid(): number | undefined;
  /** Stop the server (fast shutdown) and wait until its process is gone; the data folder stays. */
  stop(): Promise<void>;
  /** Start it again on the same port (after `stop`). */
  start(): Promise<void>;
  /** Stop and remove the folder. */
  destroy(): Promise<void>;
}

/** The folder holding initdb and pg_ctl, or undefined when PostgreSQL's server is not installed. */
export function findPostgresBin(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const debianRoot = join('/usr', 'lib', 'postgresql');
  const debian = existsSync(debianRoot)
    ? readdirSync(debianRoot)
        .sort((a, b) => Number(b) - Number(a))
        .map((v) => join(debianRoot, v, 'bin'))
    : [];
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean);
  return [...debian, ...onPath].find(
    (dir) => existsSync(join(dir, 'initdb')) && existsSync(join(dir, 'pg_ctl')),
  );
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startThrowawayPostgres(bin: string): Promise<ThrowawayPostgres> {
  const asRoot = process.getuid?.() === 0;
  const dir = await fs.mkdtemp(join(tmpdir(), 'flashline-pg-'));
  const pg = (tool: string, args: string[]) =>
    asRoot
      ? run('runuser', ['-u', 'postgres', '--', join(bin, tool), ...args], { cwd: dir })
      : run(join(bin, tool), args, { cwd: dir });
  if (asRoot) await run('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  await pg('initdb', ['-D', data, '-A', 'trust', '-U', 'flashline', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  let pid: number | undefined;
  const start = async () => {
    const settings = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await pg('pg_ctl', ['-D', data, '-o', settings, '-l', join(dir, 'server.log'), '-w', 'start']);
    pid = Number((await fs.readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
  };
  const stop = async () => {
    const p = pid;
    pid = undefined;
    if (p === undefined || !alive(p)) return;
    process.kill(p, 'SIGINT'); // fast shutdown: roll back open transactions, close connections
    while (alive(p)) await sleep(20);
  };
  await start();
  return {
    url: `postgres://flashline@127.0.0.1:${port}/postgres`,
    port,
    dir,
    pid: () => pid,
    stop,
    start,
    async destroy() {
      await stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
