/**
 * A throw-away PostgreSQL cluster for tests: `initdb` into a temp dir, `pg_ctl start` on a free loopback
 * port with the socket in that dir, stopped by the PID in `postmaster.pid`. PostgreSQL refuses to run as
 * root, so as root the binaries run through `runuser -u postgres` on a dir that user owns. Binaries come from
 * `/usr/lib/postgresql/<newest>/bin` (Debian puts only wrappers on PATH, and a fresh Debian lacks
 * `/usr/local/bin` ones). ~1.5 s to a ready cluster.
 */
import { execFile } from 'node:child_process';
import { existsSync, promises as fs, readdirSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const run = promisify(execFile);
const PG_ROOT = '/usr/lib/postgresql';

export interface PgCluster {
  /** Connection URL (trust authentication, user `flashline`, database `postgres`). */
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The postmaster's PID while running. */
  pid(): number | undefined;
  /** Stop the server (fast shutdown) and wait until its process is gone; the data dir stays. */
  stop(): Promise<void>;
  /** Start it again on the same port (after `stop`). */
  start(): Promise<void>;
  /** Stop and remove the data dir. */
  destroy(): Promise<void>;
}

function binDir(): string {
  const versions = existsSync(PG_ROOT)
    ? readdirSync(PG_ROOT)
        .filter((v) => existsSync(join(PG_ROOT, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (!newest)
    throw new Error(`PostgreSQL server binaries not found under ${PG_ROOT}; apt-get install postgresql`);
  return join(PG_ROOT, newest, 'bin');
}

export async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

const asRoot = process.getuid?.() === 0;

async function pg(bin: string, args: string[]): Promise<void> {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', bin, ...args]] : [bin, args];
  await run(cmd, argv, { cwd: tmpdir() });
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export async function startPostgres(): Promise<PgCluster> {
  const bin = binDir();
  const dir = await fs.mkdtemp(join(tmpdir(), 'flashline-pg-'));
  if (asRoot) await run('chown', ['postgres:postgres', dir]);
  const data = join(dir, 'data');
  await pg(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'flashline', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  let pid: number | undefined;

  const start = async () => {
    const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off`;
    await pg(join(bin, 'pg_ctl'), ['-D', data, '-o', opts, '-l', join(dir, 'server.log'), '-w', 'start']);
    const first = (await fs.readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0];
    pid = Number(first);
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
    destroy: async () => {
      await stop();
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
