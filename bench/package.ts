/**
 * `npm run bench -- package [--json] [--size-mib N] [--rounds N]`
 * Against `openssl dgst -sha256` over the same 1 GiB package file in the same run (single-threaded: the
 * sequential ceiling): `verifyPackage` (goal ≥ 1.5×) and the flashing path, openPackage + openImage read
 * to the end (goal ≥ 1.2×), each round one openssl run beside each of ours, the ratio being the median of
 * the per-round ratios. Also CPU seconds per GiB of each, and the peak RSS of a child process doing each
 * for a 64 MiB and a 1 GiB package (goal: flat, within 10%). Temp files live in os.tmpdir() and are removed.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
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
  /** CPU seconds of the whole process (every thread) during the run. */
  readonly cpuS: number;
  readonly maxRssKiB: number;
  readonly code: number;
}

/** Child mode: verify (or read through openImage) one package and report time and peak RSS. */
async function child(mode: string, pkg: string, trustDir: string): Promise<void> {
  const trust = await loadTrustStore({ dirs: [trustDir] });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let code = 0;
  if (mode === 'verify') {
    code = (await verifyPackage(pkg, { trust })).code;
  } else {
    const h = await openPackage(pkg, { trust });
    for (const img of h.images) for await (const _ of h.openImage(img.partition)) void _;
  }
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const out: ChildResult = {
    ms,
    cpuS: (cpu.user + cpu.system) / 1e6,
    maxRssKiB: process.resourceUsage().maxRSS,
    code,
  };
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
    // Each round runs openssl, verify and open back to back (the order rotating) and takes the ratios of
    // that round: on a shared machine the load drifts between rounds, and one round sees nearly the same
    // load on every side. The ratio is the median of the per-round ratios.
    const ssl: number[] = [];
    const verify: ChildResult[] = [];
    const open: ChildResult[] = [];
    const verifyRatios: number[] = [];
    const openRatios: number[] = [];
    const sides = ['ssl', 'verify', 'open'] as const;
    for (let i = 0; i < rounds; i++) {
      for (let k = 0; k < sides.length; k++) {
        const side = sides[(i + k) % sides.length]!;
        if (side === 'ssl') ssl.push(openssl(big.path));
        else (side === 'verify' ? verify : open).push(runChild(side, big.path, trustDir));
      }
      verifyRatios.push(ssl[i]! / verify[i]!.ms);
      openRatios.push(ssl[i]! / open[i]!.ms);
    }
    // Peak RSS moves by ±10 MiB between identical runs (when V8 collects the freed chunks): median of 3.
    const peak = (mode: string, path: string) =>
      Math.round(median([0, 1, 2].map(() => runChild(mode, path, trustDir).maxRssKiB)) / 1024);
    const rss = (mode: string) => ({ small64: peak(mode, small.path), big: peak(mode, big.path) });
    const rssVerify = rss('verify');
    const rssOpen = rss('open');

    const mbps = (ms: number) => bytes / MiB / (ms / 1000);
    const perGiB = (rs: ChildResult[]) =>
      Number((median(rs.map((r) => r.cpuS)) / (bigMiB / 1024)).toFixed(2));
    const growth = (r: { small64: number; big: number }) => Number((r.big / r.small64 - 1).toFixed(3));
    const result = {
      packageMiB: bigMiB,
      cores: availableParallelism(),
      opensslMiBps: Math.round(mbps(median(ssl))),
      verifyMiBps: Math.round(mbps(median(verify.map((r) => r.ms)))),
      ratio: Number(median(verifyRatios).toFixed(3)),
      ratios: verifyRatios.map((r) => Number(r.toFixed(3))),
      ratioGoal: 1.5,
      openImageMiBps: Math.round(mbps(median(open.map((r) => r.ms)))),
      openImageRatio: Number(median(openRatios).toFixed(3)),
      openImageRatios: openRatios.map((r) => Number(r.toFixed(3))),
      openImageRatioGoal: 1.2,
      cpuSecondsPerGiB: { verify: perGiB(verify), openImage: perGiB(open) },
      packMiBps: Math.round(mbps(big.packMs)),
      peakRssMiB: rssVerify,
      rssGrowth: growth(rssVerify),
      openImagePeakRssMiB: rssOpen,
      openImageRssGrowth: growth(rssOpen),
      rssGoal: 0.1,
    };
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      const pct = (g: number) => `${(g * 100).toFixed(1)}%`;
      log(`openssl dgst -sha256: ${result.opensslMiBps} MiB/s (median of ${rounds}; single-threaded)`);
      log(
        `flashline verify:     ${result.verifyMiBps} MiB/s (median of ${rounds}, child process, ${result.cores} cores)`,
      );
      log(
        `ratio verify/openssl: ${result.ratio} (median of per-round ratios ${result.ratios.join(', ')}; goal ≥ ${result.ratioGoal})`,
      );
      log(`openImage (openPackage + every verified byte, the flashing path): ${result.openImageMiBps} MiB/s`);
      log(
        `ratio openImage/openssl: ${result.openImageRatio} (per round ${result.openImageRatios.join(', ')}; goal ≥ ${result.openImageRatioGoal})`,
      );
      log(
        `CPU seconds per GiB (all threads): verify ${result.cpuSecondsPerGiB.verify}, openImage ${result.cpuSecondsPerGiB.openImage}`,
      );
      log(`pack: ${result.packMiBps} MiB/s`);
      log(
        `peak RSS verify 64 MiB: ${rssVerify.small64} MiB, ${bigMiB} MiB: ${rssVerify.big} MiB (growth ${pct(result.rssGrowth)}); ` +
          `openImage ${rssOpen.small64} → ${rssOpen.big} MiB (${pct(result.openImageRssGrowth)}); goal ≤ 10%`,
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
