/**
 * `flashline repo init|add|publish|rotate-key|serve`: the operator's side of the update repository
 * (main/repo). The directory holds the role keys (keys/, mode 0600 — move the root key offline), the
 * working state (repo.json), the root to hand to stations (root.json) and what a web server serves (public/).
 */
import { type Command, InvalidArgumentError, Option } from 'commander';
import { defaultTrustDirs, loadTrustStore } from '../../package/index.js';
import { addPackage, initRepository, publish, rotateKey } from '../../repo/repository.js';
import { ROLES, type RoleName } from '../../repo/role-keys.js';
import { serveRepository } from '../../repo/serve.js';
import { publicDir, shippedRootPath } from '../../repo/state.js';
import { collect, parsePort, untilInterrupted } from '../options.js';

const out = (line: string) => process.stdout.write(`${line}\n`);

function parseDays(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || n <= 0 || n > 3660) {
    throw new InvalidArgumentError(`'${value}' is not a number of days (for example 1, 7 or 0.5).`);
  }
  return Math.round(n * 24 * 3600);
}

export function registerRepo(program: Command): void {
  const repo = program
    .command('repo')
    .description('a static, signed update repository (TUF layout): init, add, publish, rotate-key, serve');

  repo
    .command('init')
    .description('create a repository: role keys, root.json (give it to stations), an empty first publish')
    .argument('<dir>', 'the repository directory (created)')
    .action(async (dir: string) => {
      const r = await initRepository(dir);
      out(
        `repository created in ${dir} (root v1, targets v${r.targets}, snapshot v${r.snapshot}, timestamp v${r.timestamp})`,
      );
      out(`  give stations:  ${shippedRootPath(dir)}   (flashline sync --repo URL --root root.json)`);
      out(`  serve:          ${publicDir(dir)}   (flashline repo serve ${dir}, or any static web server)`);
      out(`  keys:           ${dir}/keys (keep private; the root key belongs offline)`);
    });

  repo
    .command('add')
    .description('copy a signed package (.flp, encrypted or not) into the repository for the next publish')
    .argument('<dir>', 'the repository directory')
    .argument('<package...>', 'package files')
    .option(
      '--trust <dir>',
      'trust store that must accept the package (repeatable; default: the station one)',
      collect(String),
      [],
    )
    .action(async (dir: string, packages: string[], opts: { trust: string[] }) => {
      const trust = await loadTrustStore({ dirs: opts.trust.length > 0 ? opts.trust : defaultTrustDirs() });
      for (const p of packages) {
        const r = await addPackage(dir, p, trust);
        out(
          `added ${r.path}: ${r.package.products.join(', ')} ${r.package.version} (rollback index ${r.package.rollbackIndex}), ${r.length} bytes${r.package.encrypted ? ', encrypted' : ''}`,
        );
      }
      out(`run 'flashline repo publish ${dir}' to sign and publish`);
    });

  repo
    .command('publish')
    .description('sign new targets, snapshot and timestamp versions (also renews their expiry)')
    .argument('<dir>', 'the repository directory')
    .option('--timestamp-days <n>', 'timestamp validity in days (default 1)', parseDays)
    .option('--snapshot-days <n>', 'snapshot validity in days (default 7)', parseDays)
    .option('--targets-days <n>', 'targets validity in days (default 90)', parseDays)
    .action(
      async (dir: string, opts: { timestampDays?: number; snapshotDays?: number; targetsDays?: number }) => {
        const r = await publish(dir, {
          expirySeconds: {
            ...(opts.timestampDays ? { timestamp: opts.timestampDays } : {}),
            ...(opts.snapshotDays ? { snapshot: opts.snapshotDays } : {}),
            ...(opts.targetsDays ? { targets: opts.targetsDays } : {}),
          },
        });
        out(
          `published ${r.packages} package(s): targets v${r.targets}, snapshot v${r.snapshot}, timestamp v${r.timestamp}`,
        );
      },
    );

  repo
    .command('rotate-key')
    .description('replace a role key: a new root version signed by the old root key, then a fresh publish')
    .argument('<dir>', 'the repository directory')
    .addOption(
      new Option('--role <role>', 'the role whose key is replaced').choices([...ROLES]).makeOptionMandatory(),
    )
    .action(async (dir: string, opts: { role: RoleName }) => {
      const r = await rotateKey(dir, opts.role);
      out(
        `new ${opts.role} key ${r.keyId}; root v${r.rootVersion} published (stations follow the chain on their next sync)`,
      );
      if (opts.role === 'root') out(`  new stations need the new ${shippedRootPath(dir)}`);
    });

  repo
    .command('serve')
    .description('serve the repository over HTTP (static files, range requests) until Ctrl-C')
    .argument('<dir>', 'the repository directory')
    .option('--port <n>', 'TCP port (default 8470; 0 = any free port)', parsePort, 8470)
    .option('--host <addr>', 'address to listen on (default 127.0.0.1; 0.0.0.0 for the network)', '127.0.0.1')
    .option('--json', 'print {"url": …} when listening', false)
    .action(async (dir: string, opts: { port: number; host: string; json: boolean }) => {
      const server = await serveRepository(dir, { port: opts.port, host: opts.host });
      out(
        opts.json
          ? JSON.stringify({ url: server.url })
          : `serving ${publicDir(dir)} at ${server.url} (Ctrl-C stops)`,
      );
      await untilInterrupted();
      await server.close();
    });
}
