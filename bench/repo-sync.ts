/**
 * `npm run bench -- repo-sync [--json] [--size-mib N] [--rounds N]`
 * `flashline sync` of one encrypted package from `repo serve` on loopback, against `curl` fetching the same
 * target file from the same server in the same run (the ceiling for the transfer). Sync time covers the TUF
 * refresh, the ranged download to disk, its SHA-256, the package verification (decrypting every block) and
 * the atomic copy into the cache; its peak RSS is measured in a child process for a small and a large package
 * (goal: flat). Temp files live in os.tmpdir() and are removed.
 */
import { spawn } from 'node:child_process';
import { promises as fs, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  generateKeyPair,
  loadSigningPrivateKey,
  loadStationPrivateKey,
  loadStationPublicKey,
  loadTrustStore,
  packPackage,
  writeKeyPair,
} from '../main/package/index.js';
import { addPackage, initRepository, publish } from '../main/repo/repository.js';
import { serveRepository } from '../main/repo/serve.js';
import { publicDir, shippedRootPath } from '../main/repo/state.js';
import { syncRepository } from '../main/repo/sync.js';
import { median, option } from './_stats.js';

const MiB = 1024 * 1024;
const self = fileURLToPath(import.meta.url);

interface ChildResult {
  readonly ms: number;
  /** Until the last byte reached the partial file (TUF refresh included). */
  readonly downloadMs: number;
  readonly maxRssKiB: number;
}

/** Child mode: one sync into a fresh home; prints time and peak RSS. */
async function child(
  url: string,
  root: string,
  trustDir: string,
  stationKey: string,
  home: string,
): Promise<void> {
  const t0 = performance.now();
  let downloaded = t0;
  await syncRepository({
    repoUrl: url,
    rootFile: root,
    home,
    trust: await loadTrustStore({ dirs: [trustDir] }),
    decryptionKeys: [await loadStationPrivateKey(stationKey)],
    onProgress: () => {
      downloaded = performance.now();
    },
  });
  const out: ChildResult = {
    ms: performance.now() - t0,
    downloadMs: downloaded - t0,
    maxRssKiB: process.resourceUsage().maxRSS,
  };
  process.stdout.write(`${JSON.stringify(out)}\n`);
}

function runChild(
  cmd: string,
  args: string[],
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const c = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    c.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    c.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    c.on('error', reject);
    c.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function makeRepo(parent: string, mib: number) {
  const dir = join(parent, `m${mib}`);
  await fs.mkdir(dir);
  const signer = await writeKeyPair(join(dir, 'signer'), generateKeyPair({ products: ['bench'] }));
  const station = await writeKeyPair(join(dir, 'station'), generateKeyPair({ kind: 'station' }));
  const trustDir = join(dir, 'trust');
  await fs.mkdir(trustDir);
  await fs.copyFile(signer.pub, join(trustDir, 'signer.pub'));
  const image = join(dir, 'system.img');
  const block = Buffer.alloc(MiB);
  const file = await fs.open(image, 'w');
  for (let i = 0; i < mib; i++) {
    for (let j = 0; j < MiB; j += 4) block.writeUInt32LE((i * 2654435761 + j) >>> 0, j);
    await file.write(block);
  }
  await file.close();
  const pkg = join(dir, `bench-${mib}.flp`);
  await packPackage({
    outPath: pkg,
    products: ['bench'],
    version: '1.0',
    rollbackIndex: 1,
    images: [{ partition: 'system', source: image }],
    keys: [await loadSigningPrivateKey(signer.key)],
    encryptTo: [await loadStationPublicKey(station.pub)],
  });
  await fs.rm(image);
  const repoDir = join(dir, `repo-${mib}`);
  await initRepository(repoDir);
  await addPackage(repoDir, pkg, await loadTrustStore({ dirs: [trustDir] }));
  await publish(repoDir);
  await fs.rm(pkg);
  const [target] = (await fs.readdir(join(publicDir(repoDir), 'targets'))).filter((n) => n.endsWith('.flp'));
  return { repoDir, trustDir, stationKey: station.key, target: `targets/${target}` };
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const sizeMib = Number(option(args, '--size-mib') ?? 256);
  const rounds = Number(option(args, '--rounds') ?? 3);
  const dir = mkdtempSync(join(tmpdir(), 'flashline-bench-repo-'));
  try {
    const results: Record<string, unknown> = {};
    for (const mib of [16, sizeMib]) {
      const repo = await makeRepo(dir, mib);
      const server = await serveRepository(repo.repoDir, { port: 0 });
      const syncMs: number[] = [];
      const downloadMs: number[] = [];
      const curlMs: number[] = [];
      let rss = 0;
      let bytes = 0;
      try {
        for (let r = 0; r < rounds; r++) {
          const home = join(dir, `home-${mib}-${r}`);
          // Asynchronous children: the server runs in this process and must keep answering.
          const c = await runChild(process.execPath, [
            '--import',
            'tsx',
            self,
            '--child',
            server.url,
            shippedRootPath(repo.repoDir),
            repo.trustDir,
            repo.stationKey,
            home,
          ]);
          if (c.code !== 0) throw new Error(`sync child failed: ${c.stderr}`);
          const out = JSON.parse(c.stdout.trim().split('\n').pop() ?? '{}') as ChildResult;
          syncMs.push(out.ms);
          downloadMs.push(out.downloadMs);
          rss = Math.max(rss, out.maxRssKiB);
          rmSync(home, { recursive: true, force: true });
          const t0 = performance.now();
          const curl = await runChild('curl', ['-sf', '-o', '/dev/null', `${server.url}/${repo.target}`]);
          if (curl.code !== 0) throw new Error('curl failed');
          curlMs.push(performance.now() - t0);
        }
        bytes = (await fs.stat(join(publicDir(repo.repoDir), repo.target))).size;
      } finally {
        await server.close();
        rmSync(join(dir, `m${mib}`), { recursive: true, force: true });
      }
      const sync = median(syncMs);
      const curl = median(curlMs);
      results[`${mib}MiB`] = {
        bytes,
        syncMs: Math.round(sync),
        syncMBps: +(bytes / 1e3 / sync).toFixed(1),
        downloadMs: Math.round(median(downloadMs)),
        downloadMBps: +(bytes / 1e3 / median(downloadMs)).toFixed(1),
        curlMs: Math.round(curl),
        curlMBps: +(bytes / 1e3 / curl).toFixed(1),
        ratioSyncToCurl: +(curl / sync).toFixed(2),
        ratioDownloadToCurl: +(curl / median(downloadMs)).toFixed(2),
        peakRssMiB: +(rss / 1024).toFixed(1),
      };
    }
    if (json) process.stdout.write(`${JSON.stringify(results)}\n`);
    else {
      for (const [size, r] of Object.entries(results)) {
        const x = r as Record<string, number>;
        process.stdout.write(
          `${size}: sync ${x.syncMs} ms (${x.syncMBps} MB/s end to end; download phase ${x.downloadMs} ms, ${x.downloadMBps} MB/s), curl download alone ${x.curlMs} ms (${x.curlMBps} MB/s), ratios: end to end ${x.ratioSyncToCurl}, download ${x.ratioDownloadToCurl}; sync peak RSS ${x.peakRssMiB} MiB\n`,
        );
      }
    }
    return 0;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] === self && process.argv[2] === '--child') {
  const [url, root, trustDir, stationKey, home] = process.argv.slice(3);
  await child(url ?? '', root ?? '', trustDir ?? '', stationKey ?? '', home ?? '');
}
