/**
 * `npm run bench -- fastboot [--json] [--rounds N] [--size MiB] [--small MiB] [--max-download MiB] [--piece MiB]`
 *
 * A benchmark that sees the client (issue 18 item 2). The device is the `sink` virtual device (it answers
 * fastboot and discards the data) in its own process (`flashline virtual-device --profile sink`), so the
 * ceiling is the loopback link, not a simulator writing files. Three clients, each in its own child process,
 * send the same raw image file to it, in an order that rotates every round after a warm-up:
 *
 * - `raw`: the ceiling — a minimal Node loop writing the file to the socket (bench/_fastboot-clients.ts);
 * - `flashline`: the engine's planner and sender (main/flash/send-pieces.ts) over its fastboot client and
 *   TCP transport, pieces of the engine's piece size (its resume granularity) unless --piece says otherwise;
 * - `google`: AOSP's `fastboot flash`, which fills max-download-size per piece.
 *
 * Prints MB/s (10^6 bytes/s of image), the median per-round ratios Flashline/raw (goal ≥ 0.9) and
 * Flashline/Google (goal ≥ 1.2), CPU seconds per GiB of each client (goal: Flashline ≤ Google), and peak RSS
 * from the smallest to the largest image (Flashline flat), with the load average before and after.
 * Node clients' time and CPU are measured around the transfer (module loading excluded, printed apart);
 * Google's are its whole process (it starts in milliseconds).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { DEFAULT_ENGINE_OPTIONS } from '../main/flash/context.js';
import { makeVirtualImage } from '../virtual-device/image-metadata.js';
import { median, option } from './_stats.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const clients = fileURLToPath(new URL('./_fastboot-clients.ts', import.meta.url));
const cli = fileURLToPath(new URL('../bin/flashline.js', import.meta.url));

type Client = 'raw' | 'flashline' | 'google';

interface Sample {
  readonly client: Client;
  readonly round: number;
  readonly size: number;
  /** Transfer time (Node clients: measured inside; Google: its process). */
  readonly ms: number;
  /** CPU of the transfer (Node clients: inside; Google: its process). */
  readonly cpuMs: number;
  /** CPU of the whole process, start-up and module loading included. */
  readonly processCpuMs: number;
  readonly peakRssKiB: number;
}

/** Run a command under GNU time: its wall, user+sys CPU and peak RSS, plus its stdout. */
export async function timed(
  cmd: string,
  args: string[],
  dir: string,
): Promise<{ ms: number; cpuMs: number; peakRssKiB: number; stdout: string }> {
  const out = join(dir, 'time.txt');
  const p = spawn('/usr/bin/time', ['-f', '%e %U %S %M', '-o', out, cmd, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
  });
  p.stderr.on('data', (d: Buffer) => {
    stderr = (stderr + d.toString()).slice(-2000);
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    p.once('error', reject);
    p.once('exit', resolve);
  });
  if (code !== 0)
    throw new Error(`${cmd} exited with ${code}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
  const [wall, user, sys, rss] = (await readFile(out, 'utf8'))
    .trim()
    .split('\n')
    .at(-1)!
    .split(' ')
    .map(Number);
  return { ms: wall! * 1000, cpuMs: (user! + sys!) * 1000, peakRssKiB: rss!, stdout };
}

/** The sink in its own process; resolves with its address once it listens. */
export async function startSink(maxDownload: number): Promise<{ address: string; child: ChildProcess }> {
  const child = spawn(
    process.execPath,
    [
      cli,
      'virtual-device',
      '--profile',
      'sink',
      '--tcp',
      '127.0.0.1:0',
      '--json',
      '--boot-delay',
      '50',
      '--max-download-size',
      String(maxDownload),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`the sink exited early (code ${code})`)));
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  const [device] = JSON.parse(line) as { address: string }[];
  if (!device) throw new Error(`the sink said '${line.slice(0, 200)}'`);
  return { address: device.address, child };
}

export async function stopSink(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(t);
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const rounds = Number(option(args, '--rounds') ?? 5);
  const size = Number(option(args, '--size') ?? 1024) * MiB;
  const small = Number(option(args, '--small') ?? 64) * MiB;
  const maxDownload = Number(option(args, '--max-download') ?? 256) * MiB;
  const pieceArg = option(args, '--piece');
  const pieceSize = pieceArg === undefined ? DEFAULT_ENGINE_OPTIONS.pieceSize : Number(pieceArg) * MiB;
  const ok = (n: number) => Number.isSafeInteger(n) && n >= MiB;
  if (
    !Number.isInteger(rounds) ||
    rounds < 1 ||
    ![size, small, maxDownload, pieceSize].every(ok) ||
    maxDownload > 0xffffffff
  ) {
    process.stderr.write(
      'usage: npm run bench -- fastboot [--json] [--rounds N] [--size MiB] [--small MiB] [--max-download MiB] [--piece MiB]\n',
    );
    return 2;
  }
  const log = (line: string) => {
    if (!json) process.stderr.write(`${line}\n`);
  };
  const loadBefore = loadavg();
  const dir = await mkdtemp(join(tmpdir(), 'flashline-bench-fb-'));
  const sink = await startSink(maxDownload);
  const samples: Sample[] = [];
  const smallSamples: Sample[] = [];
  const measure = async (client: Client, round: number, file: string, bytes: number) => {
    const node = (mode: string, arg: number) =>
      timed(process.execPath, ['--import', 'tsx', clients, mode, sink.address, file, String(arg)], dir);
    let s: Sample;
    if (client === 'google') {
      const g = await timed('fastboot', ['-s', sink.address, 'flash', 'system_b', file], dir);
      s = {
        client,
        round,
        size: bytes,
        ms: g.ms,
        cpuMs: g.cpuMs,
        processCpuMs: g.cpuMs,
        peakRssKiB: g.peakRssKiB,
      };
    } else {
      const r = await node(client, client === 'raw' ? maxDownload : pieceSize);
      const inside = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as { ms: number; cpuMs: number };
      s = {
        client,
        round,
        size: bytes,
        ms: inside.ms,
        cpuMs: inside.cpuMs,
        processCpuMs: r.cpuMs,
        peakRssKiB: r.peakRssKiB,
      };
    }
    samples.push(s);
    log(
      `${client.padEnd(9)} ${bytes / MiB} MiB: ${(bytes / 1e6 / (s.ms / 1000)).toFixed(0)} MB/s, CPU ${(s.cpuMs / 1000).toFixed(2)} s (process ${(s.processCpuMs / 1000).toFixed(2)} s), peak RSS ${(s.peakRssKiB / 1024).toFixed(0)} MiB`,
    );
  };
  const order: Client[] = ['raw', 'flashline', 'google'];
  try {
    for (const bytes of [small, size]) {
      const file = join(dir, `image-${bytes / MiB}M.img`);
      await pipeline(
        makeVirtualImage({ size: bytes, version: '9.9.9', rollbackIndex: 1, seed: 'bench' }),
        createWriteStream(file),
      );
      // Warm-up (unmeasured): the page cache holds the file for everyone after it.
      if (bytes === small) await measure('google', -1, file, bytes);
      samples.length = 0;
      const n = bytes === size ? rounds : 1;
      for (let r = 0; r < n; r++) {
        for (let i = 0; i < order.length; i++) await measure(order[(r + i) % order.length]!, r, file, bytes);
      }
      if (bytes === small) smallSamples.push(...samples);
      await rm(file, { force: true });
    }
  } finally {
    await stopSink(sink.child);
    await rm(dir, { recursive: true, force: true });
  }
  const loadAfter = loadavg();
  const of = (c: Client) => samples.filter((s) => s.client === c);
  const rate = (c: Client) => median(of(c).map((s) => size / 1e6 / (s.ms / 1000)));
  const cpuPerGiB = (c: Client) => median(of(c).map((s) => s.cpuMs / 1000 / (size / GiB)));
  const rss = (list: Sample[], c: Client) =>
    Math.max(...list.filter((s) => s.client === c).map((s) => s.peakRssKiB)) / 1024;
  const perRound = (a: Client, b: Client) =>
    median(
      Array.from({ length: rounds }, (_, r) => {
        const x = samples.find((s) => s.client === a && s.round === r)!;
        const y = samples.find((s) => s.client === b && s.round === r)!;
        return y.ms / x.ms;
      }),
    );
  const fix = (n: number, d = 2) => Number(n.toFixed(d));
  const result = {
    image_mib: size / MiB,
    max_download_mib: maxDownload / MiB,
    flashline_piece_mib: Math.min(pieceSize, maxDownload) / MiB,
    rounds,
    load_before: fix(loadBefore[0]!),
    load_after: fix(loadAfter[0]!),
    mb_s: { raw: fix(rate('raw'), 0), flashline: fix(rate('flashline'), 0), google: fix(rate('google'), 0) },
    ratio_flashline_raw: fix(perRound('flashline', 'raw')),
    ratio_flashline_google: fix(perRound('flashline', 'google')),
    cpu_s_per_gib: {
      raw: fix(cpuPerGiB('raw')),
      flashline: fix(cpuPerGiB('flashline')),
      google: fix(cpuPerGiB('google')),
    },
    peak_rss_mib: Object.fromEntries(
      order.map((c) => [
        c,
        { [small / MiB]: fix(rss(smallSamples, c), 0), [size / MiB]: fix(rss(samples, c), 0) },
      ]),
    ),
  };
  const goals = {
    flashline_vs_raw: result.ratio_flashline_raw >= 0.9,
    flashline_vs_google: result.ratio_flashline_google >= 1.2,
    cpu_vs_google: result.cpu_s_per_gib.flashline <= result.cpu_s_per_gib.google,
  };
  if (json) process.stdout.write(`${JSON.stringify({ ...result, goals })}\n`);
  else {
    const r = result;
    const mark = (b: boolean) => (b ? 'met' : 'NOT met');
    process.stdout.write(
      `${[
        `fastboot flash of a ${r.image_mib} MiB raw image to the sink over TCP loopback (max-download-size ${r.max_download_mib} MiB, Flashline pieces ${r.flashline_piece_mib} MiB), medians of ${rounds} rounds; load ${r.load_before} → ${r.load_after}:`,
        `  MB/s            raw ${r.mb_s.raw}   Flashline ${r.mb_s.flashline}   Google ${r.mb_s.google}`,
        `  Flashline/raw    ${r.ratio_flashline_raw} (goal >= 0.9, ${mark(goals.flashline_vs_raw)})`,
        `  Flashline/Google ${r.ratio_flashline_google} (goal >= 1.2, ${mark(goals.flashline_vs_google)})`,
        `  CPU s/GiB       raw ${r.cpu_s_per_gib.raw}   Flashline ${r.cpu_s_per_gib.flashline}   Google ${r.cpu_s_per_gib.google} (Flashline <= Google: ${mark(goals.cpu_vs_google)})`,
        `  peak RSS MiB    ${order.map((c) => `${c} ${JSON.stringify(r.peak_rss_mib[c])}`).join('   ')}`,
      ].join('\n')}\n`,
    );
  }
  return 0;
}
