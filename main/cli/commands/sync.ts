/**
 * `flashline sync --repo URL [--root ROOT.json] [--product P …] [--package NAME …] [--newest] [--print-path]
 * [--list] [--json]`:
 * bring the repository's packages into the station's package cache (main/repo/sync.ts). The exit code is
 * the status code: 0, 1x when the repository cannot be reached, 2x when it is refused.
 */
import type { Command } from 'commander';
import { flashlineHome } from '../../common/paths.js';
import { loadStationKeys } from '../../flash/adapters/package.js';
import { ProgressMeter } from '../../flash/progress.js';
import { defaultTrustDirs, loadTrustStore } from '../../package/index.js';
import { fetchCatalog, type SyncProgress, syncRepository } from '../../repo/sync.js';
import { collect, withPackageKeyOptions } from '../options.js';
import { transferProgressPrinter } from '../transfer-progress.js';

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

/**
 * Progress on stderr, measured by the engine's ProgressMeter (as the Catalog measures a download: MB/s over
 * the last seconds, so bytes resumed from an earlier run do not count as speed).
 */
function progressPrinter(): (p: SyncProgress) => void {
  const printer = transferProgressPrinter();
  let meter: ProgressMeter | undefined;
  let name = '';
  return (p) => {
    if (meter && p.name === name) return meter.set(p.bytesDone);
    name = p.name;
    const label = p.name;
    meter = new ProgressMeter(label, label, (e) =>
      printer.show({
        what: label,
        bytesDone: e.bytesDone,
        bytesTotal: e.bytesTotal,
        rate: e.rate,
        etaSeconds: e.eta,
      }),
    );
    meter.begin('download', p.bytesTotal, p.bytesDone);
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
