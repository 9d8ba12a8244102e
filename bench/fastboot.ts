/**
 * `npm run bench -- fastboot [--json] [--rounds N] [--sizes 64,1024] [--max-download MiB] [--piece MiB]`
 *
 * Flashes a raw image to a virtual device over TCP loopback with Flashline's engine path (the piece planner
 * and sender a job uses, main/flash/send-pieces.ts, over the engine's fastboot session) and with Google's
 * `fastboot`, alternately in the same run (ours, google, ours, google, …), each in its own child process so
 * peak RSS is per client. Ours sends pieces of the engine's default piece size (its resume granularity,
 * capped by max-download-size) unless --piece says otherwise; Google's fills max-download-size. Prints MB/s
 * (image bytes / wall time of the whole flash), the ratio ours/google (goal ≥ 1.0), and peak RSS: ours must
 * stay flat from the smallest to the largest image, Google's client grows with the image.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { FastbootConnector } from '../main/flash/adapters/fastboot.js';
import { DEFAULT_ENGINE_OPTIONS } from '../main/flash/context.js';
import { flashPlannedImage } from '../main/flash/send-pieces.js';
import { makeVirtualImage } from '../virtual-device/image-metadata.js';
import { startVirtualDevice } from '../virtual-device/index.js';
import { median, option } from './_stats.js';

const MiB = 1024 * 1024;
const self = fileURLToPath(import.meta.url);

interface Sample {
  readonly client: 'flashline' | 'google';
  readonly size: number;
  readonly ms: number;
  readonly peakRssKiB: number;
}

/** Child mode: flash FILE to PARTITION on ADDRESS the way a job does; print {ms, peakRssKiB, pieces}. */
async function child(address: string, partition: string, file: string, pieceSize: number): Promise<void> {
  const size = (await stat(file)).size;
  const started = performance.now();
  const signal = new AbortController().signal;
  const session = await new FastbootConnector().connect(address, { signal });
  const plan = await flashPlannedImage(
    session,
    partition,
    { size, sparse: false },
    () => createReadStream(file, { highWaterMark: MiB }),
    { signal, pieceSize },
  );
  await session.close();
  const ms = performance.now() - started;
  process.stdout.write(
    `${JSON.stringify({ ms, peakRssKiB: process.resourceUsage().maxRSS, pieces: plan.pieces.length })}\n`,
  );
}

/** Peak RSS of a child we did not write: poll VmHWM (a high-water mark, so the last reading is the peak). */
function runMeasured(
  cmd: string,
  args: string[],
): Promise<{ ms: number; peakRssKiB: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hwm = 0;
    p.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
    });
    p.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-2000);
    });
    const poll = setInterval(() => {
      readFile(`/proc/${p.pid}/status`, 'utf8')
        .then((s) => {
          const m = /VmHWM:\s+(\d+) kB/.exec(s);
          if (m) hwm = Math.max(hwm, Number(m[1]));
        })
        .catch(() => {});
    }, 20);
    p.on('error', (err) => {
      clearInterval(poll);
      reject(err);
    });
    p.on('exit', (code) => {
      clearInterval(poll);
      const ms = performance.now() - started;
      if (code !== 0)
        reject(new Error(`${cmd} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`));
      else resolve({ ms, peakRssKiB: hwm, stdout });
    });
  });
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const rounds = Number(option(args, '--rounds') ?? 5);
  const sizes = (option(args, '--sizes') ?? '64,1024').split(',').map((s) => Number(s) * MiB);
  const maxDownload = Number(option(args, '--max-download') ?? 256) * MiB;
  const pieceArg = option(args, '--piece');
  const pieceSize = pieceArg === undefined ? DEFAULT_ENGINE_OPTIONS.pieceSize : Number(pieceArg) * MiB;
  if (
    !Number.isInteger(rounds) ||
    rounds < 1 ||
    sizes.some((s) => !Number.isSafeInteger(s) || s < MiB) ||
    !Number.isSafeInteger(pieceSize) ||
    pieceSize < MiB
  ) {
    process.stderr.write(
      'usage: npm run bench -- fastboot [--json] [--rounds N] [--sizes MiB,MiB] [--max-download MiB] [--piece MiB]\n',
    );
    return 2;
  }
  const dir = await mkdtemp(join(tmpdir(), 'flashline-bench-fb-'));
  const vd = await startVirtualDevice({ maxDownloadSize: maxDownload, bootDelayMs: 50 });
  const log = (line: string) => {
    if (!json) process.stderr.write(`${line}\n`);
  };
  const samples: Sample[] = [];
  const ours = async (size: number, file: string) => {
    const run = await runMeasured(process.execPath, [
      '--import',
      'tsx',
      self,
      '--child',
      vd.address,
      'system_b',
      file,
      String(pieceSize),
    ]);
    const mine = JSON.parse(run.stdout.trim().split('\n').at(-1) ?? '{}') as {
      ms: number;
      peakRssKiB: number;
    };
    samples.push({ client: 'flashline', size, ms: mine.ms, peakRssKiB: mine.peakRssKiB });
    log(
      `flashline ${size / MiB} MiB: ${(size / MiB / (mine.ms / 1000)).toFixed(1)} MB/s, peak RSS ${(mine.peakRssKiB / 1024).toFixed(0)} MiB`,
    );
  };
  const google = async (size: number, file: string) => {
    const g = await runMeasured('fastboot', ['-s', vd.address, 'flash', 'system_b', file]);
    samples.push({ client: 'google', size, ms: g.ms, peakRssKiB: g.peakRssKiB });
    log(
      `google    ${size / MiB} MiB: ${(size / MiB / (g.ms / 1000)).toFixed(1)} MB/s, peak RSS ${(g.peakRssKiB / 1024).toFixed(0)} MiB`,
    );
  };
  try {
    for (const size of sizes) {
      const file = join(dir, `image-${size / MiB}M.img`);
      await pipeline(
        makeVirtualImage({ size, version: '9.9.9', rollbackIndex: 1, seed: 'bench' }),
        createWriteStream(file),
      );
      // The smallest size runs once per client: it only anchors the RSS flatness comparison.
      const n = size === Math.max(...sizes) ? rounds : 1;
      // Warm-up (unmeasured): the first write allocates the partition file, which would favour whoever
      // goes second; after it, the order alternates every round.
      if (size === sizes[0]) await runMeasured('fastboot', ['-s', vd.address, 'flash', 'system_b', file]);
      for (let r = 0; r < n; r++) {
        const order = r % 2 === 0 ? [ours, google] : [google, ours];
        for (const measure of order) await measure(size, file);
      }
      await rm(file, { force: true });
    }
  } finally {
    await vd.stop();
    await rm(dir, { recursive: true, force: true });
  }
  const largest = Math.max(...sizes);
  const smallest = Math.min(...sizes);
  const rate = (c: Sample['client'], size: number) =>
    median(samples.filter((s) => s.client === c && s.size === size).map((s) => size / MiB / (s.ms / 1000)));
  const rss = (c: Sample['client'], size: number) =>
    Math.max(...samples.filter((s) => s.client === c && s.size === size).map((s) => s.peakRssKiB)) / 1024;
  const result = {
    image_mib: largest / MiB,
    max_download_mib: maxDownload / MiB,
    flashline_piece_mib: Math.min(pieceSize, maxDownload) / MiB,
    rounds,
    flashline_mb_s: Number(rate('flashline', largest).toFixed(1)),
    google_mb_s: Number(rate('google', largest).toFixed(1)),
    ratio: Number((rate('flashline', largest) / rate('google', largest)).toFixed(2)),
    flashline_peak_rss_mib: Object.fromEntries(
      sizes.map((s) => [s / MiB, Number(rss('flashline', s).toFixed(0))]),
    ),
    google_peak_rss_mib: Object.fromEntries(sizes.map((s) => [s / MiB, Number(rss('google', s).toFixed(0))])),
    flashline_rss_growth: Number((rss('flashline', largest) / rss('flashline', smallest)).toFixed(2)),
    device_process_peak_rss_mib: Number((process.resourceUsage().maxRSS / 1024).toFixed(0)),
    goal_ratio_met: rate('flashline', largest) >= rate('google', largest),
  };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    process.stdout.write(
      `${[
        `fastboot flash of a ${result.image_mib} MiB raw image over TCP loopback (max-download-size ${result.max_download_mib} MiB, Flashline pieces ${result.flashline_piece_mib} MiB), median of ${rounds}:`,
        `  Flashline: ${result.flashline_mb_s} MB/s   Google fastboot: ${result.google_mb_s} MB/s   ratio ${result.ratio} (goal >= 1.0)`,
        `  peak RSS Flashline: ${JSON.stringify(result.flashline_peak_rss_mib)} MiB (growth x${result.flashline_rss_growth})`,
        `  peak RSS Google:    ${JSON.stringify(result.google_peak_rss_mib)} MiB`,
        `  virtual device process peak RSS: ${result.device_process_peak_rss_mib} MiB`,
      ].join('\n')}\n`,
    );
  }
  return 0;
}

if (process.argv[1] === self && process.argv[2] === '--child') {
  const [address, partition, file, piece] = process.argv.slice(3);
  if (!address || !partition || !file || !piece)
    throw new Error('usage: fastboot.ts --child ADDRESS PARTITION FILE PIECE_BYTES');
  await child(address, partition, file, Number(piece));
}
