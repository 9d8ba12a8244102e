import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { flashlineHome } from '../../common/paths.js';
import { statusInfo } from '../../common/status-codes.js';
import {
  defaultTrustDirs,
  loadStationPrivateKey,
  loadTrustStore,
  type StationPrivateKey,
  StationRollbackStore,
  type VerifyResult,
  verifyPackage,
} from '../../package/index.js';
import { collect, parseNonNegativeInt } from '../options.js';

interface VerifyOpts {
  trust: string[];
  deviceRollbackIndex?: number;
  product?: string;
  hardwareRevision?: string;
  bootloaderVersion?: string;
  decryptionKey: string[];
  stationRollback: boolean;
  json: boolean;
}

/** Station keys installed under flashlineHome()/station-keys, plus any given on the command line. */
async function stationKeys(extra: readonly string[]): Promise<StationPrivateKey[]> {
  const dir = join(flashlineHome(), 'station-keys');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const files = [...names.filter((n) => n.endsWith('.key')).map((n) => join(dir, n)), ...extra];
  return Promise.all(files.map(loadStationPrivateKey));
}

function printHuman(path: string, r: VerifyResult): void {
  const s = r.summary;
  if (r.ok && s) {
    process.stdout.write(
      `OK ${path}: ${s.products.join(', ')} version ${s.version} (rollback index ${s.rollbackIndex}), ` +
        `${s.images.length} image(s)${s.encrypted ? ', encrypted' : ''}, signed by ${(s.signers ?? []).map((x) => x.keyId).join(', ')}\n`,
    );
    return;
  }
  const info = statusInfo(r.code);
  process.stdout.write(
    `FAILED ${path}: status ${r.code} ${r.reason}\n  ${r.detail}\n  What to do: ${info.remedy}\n`,
  );
}

export function registerVerify(program: Command): void {
  program
    .command('verify')
    .description('verify a package; exit 0 when valid, else the verify_failed sub-code (20-29)')
    .argument('<package>', 'the .flp file')
    .option(
      '--trust <dir>',
      'trust directory (repeatable; default: shipped keys + the station trust directory)',
      collect(String),
      [],
    )
    .option('--device-rollback-index <n>', "the device's current rollback index", parseNonNegativeInt)
    .option('--product <id>', 'the product of the target device')
    .option('--hardware-revision <rev>', 'the hardware revision of the target device')
    .option('--bootloader-version <v>', 'the bootloader version of the target device')
    .option(
      '--decryption-key <file>',
      'station private key for encrypted packages (repeatable)',
      collect(String),
      [],
    )
    .option('--no-station-rollback', "ignore this station's record of flashed rollback indexes")
    .option('--json', 'print {ok, code, reason, detail, summary} as JSON', false)
    .action(async (path: string, opts: VerifyOpts) => {
      if (path.length === 0) throw new InvalidArgumentError('package path is empty');
      const trust = await loadTrustStore({ dirs: opts.trust.length > 0 ? opts.trust : defaultTrustDirs() });
      const result = await verifyPackage(path, {
        trust,
        decryptionKeys: await stationKeys(opts.decryptionKey),
        ...(opts.deviceRollbackIndex !== undefined ? { deviceRollbackIndex: opts.deviceRollbackIndex } : {}),
        ...(opts.product ? { product: opts.product } : {}),
        ...(opts.hardwareRevision ? { hardwareRevision: opts.hardwareRevision } : {}),
        ...(opts.bootloaderVersion ? { bootloaderVersion: opts.bootloaderVersion } : {}),
        ...(opts.stationRollback ? { stationRollback: new StationRollbackStore() } : {}),
      });
      if (opts.json) process.stdout.write(`${JSON.stringify(result)}\n`);
      else printHuman(path, result);
      process.exitCode = result.code;
    });
}
