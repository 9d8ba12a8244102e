/**
 * `npm run bench -- package [--json] [--size-mib N] [--rounds N]`
 * Verify throughput of a 1 GiB package against `openssl dgst -sha256` over the same file in the same run
 * (ratio, goal ≥ 0.9), the block-verified openImage path for reference, and the peak RSS of a child process
 * verifying a 64 MiB and a 1 GiB package (goal: flat, within 10%). Temp files live in os.tmpdir() and are removed.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import {
  generateKeyPair,
  loadSigningPrivateKey,
  loadTrustStore,
  openPackage,
  packPackage,
  verifyPackage,
  writeKeyPair,
} from '../main/package/index.js';

const MiB = 1024 * 1024;
const self = fileURLToPath(import.meta.url);

async function writeImage(path: string, mib: number): Promise<void> {
  const block = Buffer.alloc(MiB);
  for (let i = 0; i < MiB; i++) block[i] = (i * 2654435761) >>> 24;
  await pipeline(
    (function* () {
      for (let i = 0; i < mib; i++) {
        block.writeUInt32LE(i, 0); // distinct blocks
        yield Buffer.from(block);
      }
    })(),
    createWriteStream(path),
  );
}

interface ChildResult {
  readonly ms: number;
  readonly maxRssKiB: number;
  readonly code: number;
}

/** Child mode: verify (or read through openImage) one package and report time and peak RSS. */
async function child(mode: string, pkg: string, trustDir: string): Promise<void> {
  const trust = await loadTrustStore({ dirs: [trustDir] });
  const t0 = performance.now();
  let code = 0;
  if (mode === 'verify') {
    code = (await verifyPackage(pkg, { trust })).code;
  } else {
    const h = await openPackage(pkg, { trust });
    for (const img of h.images) for await (const _ of h.openImage(img.partition)) void _;
  }
  const ms = performance.now() - t0;
  const out: ChildResult = { ms, maxRssKiB: process.resourceUsage().maxRSS, code };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runChild(mode: string, pkg: string, trustDir: string): ChildResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, pkg, trustDir], {
    encoding: 'utf8',
    timeout: 600_000,
  });
  if (r.status !== 0) throw new Error(`child ${mode} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
}

function openssl(path: string): number {
  const t0 = performance.now();
  const r = spawnSync('openssl', ['dgst', '-sha256', path], { encoding: 'utf8', timeout: 600_000 });
  if (r.status !== 0) throw new Error(`openssl failed: ${r.stderr}`);
  return performance.now() - t0;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const sizeArg = args.indexOf('--size-mib');
  const bigMiB = sizeArg >= 0 ? Number(args[sizeArg + 1]) : 1024;
  const roundsArg = args.indexOf('--rounds');
  const rounds = roundsArg >= 0 ? Number(args[roundsArg + 1]) : 5;
  if (!Number.isInteger(bigMiB) || bigMiB < 64 || !Number.isInteger(rounds) || rounds < 1) {
    process.stderr.write('usage: npm run bench -- package [--json] [--size-mib N≥64] [--rounds N]\n');
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'flashline-bench-package-'));
  const log = (s: string) => {
    if (!json) process.stdout.write(`${s}\n`);
  };
  try {
    const trustDir = join(dir, 'trust');
    await writeKeyPair(join(trustDir, 'bench'), generateKeyPair({ products: ['bench'] }));
    const key = await loadSigningPrivateKey(join(trustDir, 'bench.key'));
    const make = async (mib: number) => {
      const img = join(dir, `img-${mib}.bin`);
      await writeImage(img, mib);
      const out = join(dir, `pkg-${mib}.flp`);
      const t0 = performance.now();
      await packPackage({
        outPath: out,
        products: ['bench'],
        version: '1',
        rollbackIndex: 1,
        images: [{ partition: 'system', source: img }],
        keys: [key],
      });
      const packMs = performance.now() - t0;
      rmSync(img);
      return { path: out, packMs };
    };
    log(`preparing ${bigMiB} MiB and 64 MiB packages in ${dir} …`);
    const big = await make(bigMiB);
    const small = await make(64);
    const sanity = await verifyPackage(big.path, { trust: await loadTrustStore({ dirs: [trustDir] }) });
    if (!sanity.ok) throw new Error(`bench package does not verify: ${sanity.detail}`);
    const bytes = bigMiB * MiB;

    openssl(big.path); // warm the page cache so both sides read from memory
    // Pairs run back to back and the ratio is the median of the per-pair ratios: on a shared machine the
    // load drifts between rounds, and a pair sees nearly the same load on both sides.
    const sslMs: number[] = [];
    const verifyMs: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const pair = i % 2 === 0 ? ['ssl', 'verify'] : ['verify', 'ssl'];
      for (const side of pair) {
        if (side === 'ssl') sslMs.push(openssl(big.path));
        else verifyMs.push(runChild('verify', big.path, trustDir).ms);
      }
      ratios.push(sslMs[i]! / verifyMs[i]!);
    }
    const openMs = runChild('open', big.path, trustDir).ms;
    const rssSmall = runChild('verify', small.path, trustDir).maxRssKiB;
    const rssBig = runChild('verify', big.path, trustDir).maxRssKiB;

    const mbps = (ms: number) => bytes / MiB / (ms / 1000);
    const result = {
      packageMiB: bigMiB,
      opensslMiBps: Math.round(mbps(median(sslMs))),
      verifyMiBps: Math.round(mbps(median(verifyMs))),
      ratio: Number(median(ratios).toFixed(3)),
      ratios: ratios.map((r) => Number(r.toFixed(3))),
      ratioGoal: 0.9,
      openImageMiBps: Math.round(mbps(openMs)),
      packMiBps: Math.round(mbps(big.packMs)),
      peakRssMiB: { small64: Math.round(rssSmall / 1024), big: Math.round(rssBig / 1024) },
      rssGrowth: Number((rssBig / rssSmall - 1).toFixed(3)),
      rssGoal: 0.1,
    };
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      log(`openssl dgst -sha256: ${result.opensslMiBps} MiB/s (median of ${rounds})`);
      log(`flashline verify:     ${result.verifyMiBps} MiB/s (median of ${rounds}, child process)`);
      log(
        `ratio verify/openssl: ${result.ratio} (median of per-pair ratios ${result.ratios.join(', ')}; goal ≥ ${result.ratioGoal})`,
      );
      log(`openImage (block-verified, the flashing path): ${result.openImageMiBps} MiB/s`);
      log(`pack: ${result.packMiBps} MiB/s`);
      log(
        `peak RSS verifying 64 MiB: ${result.peakRssMiB.small64} MiB, ${bigMiB} MiB: ${result.peakRssMiB.big} MiB (growth ${(result.rssGrowth * 100).toFixed(1)}%, goal ≤ 10%)`,
      );
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === self && process.argv[2] === '--child') {
  await child(process.argv[3] ?? 'verify', process.argv[4] ?? '', process.argv[5] ?? '');
}
