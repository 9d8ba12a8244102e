/**
 * `npm run bench -- fastboot-engine [--json] [--rounds N] [--size MiB] [--piece MiB]`
 *
 * The engine against its own bare client (issue 18 item 5, over TCP): the same `sink` device (own process),
 * two children per round in alternating order —
 * - `engine`: a whole FlashService job of a signed package (a 4 MiB boot + a --size MiB system image): its
 *   download stage (package verification on the pool, pieces, `flash` per piece, the journal's fsync per
 *   written piece) at the report's own timing;
 * - `bare`: the engine's planner and sender alone (flashPlannedImage) sending a raw file of the system's size
 *   from reused buffers, same piece size.
 * Prints both rates and their per-round ratio (goal ≥ 0.9), each child's CPU per GiB, and the load.
 */
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { makeDemoPackage } from '../main/cli/demo-package.js';
import { DEFAULT_ENGINE_OPTIONS } from '../main/flash/context.js';
import { makeVirtualImage } from '../virtual-device/image-metadata.js';
import { median, option } from './_stats.js';
import { startSink, stopSink, timed } from './fastboot.js';

const MiB = 1024 * 1024;
const GiB = 1024 * MiB;
const clients = fileURLToPath(new URL('./_fastboot-clients.ts', import.meta.url));

interface Round {
  readonly engineMbS: number;
  readonly bareMbS: number;
  readonly engineCpuPerGiB: number;
  readonly bareCpuPerGiB: number;
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const rounds = Number(option(args, '--rounds') ?? 3);
  const size = Number(option(args, '--size') ?? 256) * MiB;
  const pieceArg = option(args, '--piece');
  const pieceSize = pieceArg === undefined ? DEFAULT_ENGINE_OPTIONS.pieceSize : Number(pieceArg) * MiB;
  if (
    !Number.isInteger(rounds) ||
    rounds < 1 ||
    ![size, pieceSize].every((n) => Number.isSafeInteger(n) && n >= MiB)
  ) {
    process.stderr.write(
      'usage: npm run bench -- fastboot-engine [--json] [--rounds N] [--size MiB] [--piece MiB]\n',
    );
    return 2;
  }
  const log = (line: string) => {
    if (!json) process.stderr.write(`${line}\n`);
  };
  const loadBefore = loadavg()[0]!;
  const dir = await mkdtemp(join(tmpdir(), 'flashline-bench-fbe-'));
  const sink = await startSink(256 * MiB);
  const results: Round[] = [];
  try {
    const pkg = await makeDemoPackage(join(dir, 'bench.flp'), { bootSize: 4 * MiB, systemSize: size });
    const raw = join(dir, 'system.img');
    await pipeline(
      makeVirtualImage({ size, version: '9.9.9', rollbackIndex: 1, seed: 'bench' }),
      createWriteStream(raw),
    );
    const child = async (mode: 'engine' | 'flashline', file: string, n: number) => {
      const r = await timed(
        process.execPath,
        ['--import', 'tsx', clients, mode, sink.address, file, String(pieceSize), join(dir, `home-${n}`)],
        dir,
      );
      return JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
        ms: number;
        cpuMs: number;
        stageMs?: number;
        stageBytes?: number;
      };
    };
    // Warm-up (unmeasured): page cache, the sink's partition files, the first job's trust store.
    await child('engine', pkg, -1);
    for (let r = 0; r < rounds; r++) {
      let engine = { mbS: 0, cpu: 0 };
      let bare = { mbS: 0, cpu: 0 };
      const runEngine = async () => {
        const e = await child('engine', pkg, r);
        engine = {
          mbS: e.stageBytes! / 1e6 / (e.stageMs! / 1000),
          cpu: e.cpuMs / 1000 / (e.stageBytes! / GiB),
        };
        log(
          `engine download stage: ${engine.mbS.toFixed(0)} MB/s (${(e.stageBytes! / MiB).toFixed(0)} MiB in ${e.stageMs} ms), job CPU ${(e.cpuMs / 1000).toFixed(2)} s`,
        );
      };
      const runBare = async () => {
        const b = await child('flashline', raw, r);
        bare = { mbS: size / 1e6 / (b.ms / 1000), cpu: b.cpuMs / 1000 / (size / GiB) };
        log(`bare client:           ${bare.mbS.toFixed(0)} MB/s, CPU ${(b.cpuMs / 1000).toFixed(2)} s`);
      };
      for (const step of r % 2 === 0 ? [runEngine, runBare] : [runBare, runEngine]) await step();
      results.push({
        engineMbS: engine.mbS,
        bareMbS: bare.mbS,
        engineCpuPerGiB: engine.cpu,
        bareCpuPerGiB: bare.cpu,
      });
    }
  } finally {
    await stopSink(sink.child);
    await rm(dir, { recursive: true, force: true });
  }
  const fix = (n: number, d = 2) => Number(n.toFixed(d));
  const result = {
    system_mib: size / MiB,
    piece_mib: pieceSize / MiB,
    rounds,
    load_before: fix(loadBefore),
    load_after: fix(loadavg()[0]!),
    engine_mb_s: fix(median(results.map((r) => r.engineMbS)), 0),
    bare_mb_s: fix(median(results.map((r) => r.bareMbS)), 0),
    ratio_engine_bare: fix(median(results.map((r) => r.engineMbS / r.bareMbS))),
    cpu_s_per_gib: {
      engine_job: fix(median(results.map((r) => r.engineCpuPerGiB))),
      bare: fix(median(results.map((r) => r.bareCpuPerGiB))),
    },
  };
  if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else
    process.stdout.write(
      `${[
        `engine job vs its bare client against the sink over TCP loopback (${result.system_mib} MiB system + 4 MiB boot, pieces ${result.piece_mib} MiB), medians of ${rounds} rounds; load ${result.load_before} → ${result.load_after}:`,
        `  download stage ${result.engine_mb_s} MB/s   bare client ${result.bare_mb_s} MB/s   ratio ${result.ratio_engine_bare} (goal >= 0.9)`,
        `  CPU s/GiB       whole job ${result.cpu_s_per_gib.engine_job}   bare client ${result.cpu_s_per_gib.bare}`,
      ].join('\n')}\n`,
    );
  return 0;
}
