/**
 * `flashline sync --repo URL [--root ROOT.json] [--product P …] [--package NAME …] [--newest] [--print-path]
 * [--list] [--json]`:
 * bring the repository's packages into the station's package cache (main/repo/sync.ts). The exit code is
 * the status code: 0, 1x when the repository cannot be reached, 2x when it is refused.
 */
import type { Command } from 'commander';
import { flashlineHome } from '../../common/paths.js';
import { loadStationKeys } from '../../flash/adapters/package.js';
import { defaultTrustDirs, loadTrustStore } from '../../package/index.js';
import { fetchCatalog, type SyncProgress, syncRepository } from '../../repo/sync.js';
import { collect, withPackageKeyOptions } from '../options.js';

interface SyncOpts {
  repo: string;
  root?: string;
  product: string[];
  package: string[];
  list: boolean;
  newest: boolean;
  printPath: boolean;
  json: boolean;
  trust: string[];
  decryptionKey: string[];
}

const mb = (n: number) => (n / 1e6).toFixed(1);

/** One progress line on stderr, at most ~4 times a second, with MB/s and ETA. */
function progressPrinter(): (p: SyncProgress) => void {
  let last = 0;
  let started = 0;
  let name = '';
  return (p) => {
    const now = Date.now();
    if (p.name !== name) {
      name = p.name;
      started = now;
    }
    if (now - last < 250 && p.bytesDone < p.bytesTotal) return;
    last = now;
    const rate = p.bytesDone / Math.max(0.001, (now - started) / 1000);
    const eta = rate > 0 ? Math.ceil((p.bytesTotal - p.bytesDone) / rate) : 0;
    process.stderr.write(
      `${p.name}: ${mb(p.bytesDone)}/${mb(p.bytesTotal)} MB  ${mb(rate)} MB/s  ETA ${eta}s${p.bytesDone >= p.bytesTotal ? '\n' : '\r'}`,
    );
  };
}

export function registerSync(program: Command): void {
  withPackageKeyOptions(
    program
      .command('sync')
      .description(
        "bring a signed repository's packages into the package cache (ranged, resumable; exit code = status code)",
      )
      .requiredOption(
        '--repo <url>',
        'the repository URL (what `flashline repo serve` or a web server serves)',
      )
      .option('--root <file>', "the repository's root.json; needed the first time only (it is remembered)")
      .option('--product <id>', 'only packages for this product (repeatable)', collect(String), [])
      .option('--package <name>', 'only this package file name (repeatable)', collect(String), [])
      .option('--newest', 'only the newest package for each --product (rollback index, then version)', false)
      .option(
        '--print-path',
        'print only the cached package path(s), one a line (for scripts and `line`)',
        false,
      )
      .option('--list', 'refresh and list the packages; download nothing', false)
      .option('--json', 'print the result as JSON', false),
  ).action(async (opts: SyncOpts) => {
    const home = flashlineHome();
    if (opts.list) {
      const catalog = await fetchCatalog({
        repoUrl: opts.repo,
        ...(opts.root ? { rootFile: opts.root } : {}),
        home,
      });
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(catalog)}\n`);
        return;
      }
      process.stdout.write(
        `${catalog.repoUrl}: ${catalog.entries.length} package(s), metadata valid until ${catalog.expires}\n`,
      );
      for (const e of catalog.entries) {
        process.stdout.write(
          `  ${e.name}  ${e.package.products.join(',')} ${e.package.version} (rollback ${e.package.rollbackIndex})  ${mb(e.length)} MB${e.cached ? '  [cached]' : ''}\n`,
        );
      }
      return;
    }
    const result = await syncRepository({
      repoUrl: opts.repo,
      ...(opts.root ? { rootFile: opts.root } : {}),
      home,
      products: opts.product,
      names: opts.package,
      newest: opts.newest,
      trust: await loadTrustStore({ dirs: opts.trust.length > 0 ? opts.trust : defaultTrustDirs() }),
      decryptionKeys: await loadStationKeys(home, opts.decryptionKey),
      ...(opts.json || opts.printPath ? {} : { onProgress: progressPrinter() }),
    });
    if (opts.printPath) {
      process.stdout.write(result.packages.map((p) => `${p.path}\n`).join(''));
      return;
    }
    if (opts.json) {
      process.stdout.write(
        `${JSON.stringify({ repoUrl: result.catalog.repoUrl, packages: result.packages })}\n`,
      );
      return;
    }
    for (const p of result.packages) {
      process.stdout.write(`${p.downloaded ? 'downloaded' : 'already cached'} ${p.name} → ${p.path}\n`);
    }
    process.stdout.write(
      `${result.packages.length} package(s) in the cache from ${result.catalog.repoUrl}\n`,
    );
  });
}
