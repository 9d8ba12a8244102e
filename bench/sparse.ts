/**
 * `npm run bench -- sparse [--json] [--size MiB]`: Flashline's sparse codec against libsparse's own tools in
 * the same run, on a generated image (random data, zero runs and fills, odd tail):
 *   encode  scanRawLayout + encodeSparse → file   vs  img2simg
 *   decode  decodeSparse → file                   vs  simg2img
 *   split   the engine's planImage + imagePieces → files vs  simg2simg (64 MiB pieces)
 * Prints MB/s of the expanded image, the ratio ours/libsparse (> 1: we are faster) and each side's peak RSS
 * (VmHWM of a process running only that step). Ours must stay flat whatever --size is.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const exec = promisify(execFile);
const MiB = 1024 * 1024;
const stepScript = fileURLToPath(new URL('./_sparse-step.ts', import.meta.url));

function fillBlock(i: number, block: Buffer): Buffer {
  const k = (i * 2654435761 + 7) % 10;
  if (k < 3) return block.fill(0);
  if (k < 4) return block.fill(i & 0xff);
  for (let j = 0; j < block.length; j += 4)
    block.writeUInt32LE(((i + 1) * 2246822519 + j * 3266489917) >>> 0, j);
  return block;
}

async function writeImage(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  for (let i = 0; i * MiB < bytes; i++) {
    const chunk = fillBlock(i, Buffer.alloc(MiB)).subarray(0, Math.min(MiB, bytes - i * MiB));
    if (!out.write(chunk)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
}

interface Measure {
  seconds: number;
  peakRssKiB: number;
}

async function ours(args: string[]): Promise<Measure> {
  const { stdout } = await exec(process.execPath, ['--import', 'tsx', stepScript, ...args], {
    timeout: 30 * 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Measure;
}

/** A libsparse tool under GNU time (peak RSS in KiB), or wall time only when GNU time is missing. */
async function theirs(tool: string, args: string[]): Promise<Measure> {
  const t0 = process.hrtime.bigint();
  try {
    const { stderr } = await exec('/usr/bin/time', ['-f', 'PEAK %M', tool, ...args], {
      timeout: 30 * 60_000,
    });
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    return { seconds, peakRssKiB: Number(/PEAK (\d+)/.exec(stderr)?.[1] ?? 0) };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    await exec(tool, args, { timeout: 30 * 60_000 });
    return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, peakRssKiB: 0 };
  }
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const sizeArg = args.indexOf('--size');
  const sizeMiB = sizeArg >= 0 ? Number(args[sizeArg + 1]) : 256;
  if (!Number.isInteger(sizeMiB) || sizeMiB <= 0) {
    process.stderr.write('--size takes a whole number of MiB\n');
    return 2;
  }
  const dir = await mkdtemp(join(tmpdir(), 'flashline-bench-sparse-'));
  try {
    const raw = join(dir, 'image.raw');
    const simg = join(dir, 'libsparse.simg');
    const bytes = sizeMiB * MiB + 1234;
    await writeImage(raw, bytes);
    const rows: Record<string, number | string>[] = [];
    const record = (step: string, o: Measure, t: Measure) =>
      rows.push({
        step,
        oursMBps: Math.round(bytes / 1e6 / o.seconds),
        libsparseMBps: Math.round(bytes / 1e6 / t.seconds),
        ratio: Math.round((t.seconds / o.seconds) * 100) / 100,
        oursPeakRssMiB: Math.round(o.peakRssKiB / 1024),
        libsparsePeakRssMiB: Math.round(t.peakRssKiB / 1024),
      });

    // Alternate libsparse and ours so neither always gets the warmer page cache.
    const tEnc = await theirs('img2simg', [raw, simg]);
    record('encode', await ours(['encode', raw, join(dir, 'ours.simg')]), tEnc);
    await rm(join(dir, 'ours.simg'));
    const oDec = await ours(['decode', simg, join(dir, 'ours.raw')]);
    await rm(join(dir, 'ours.raw'));
    record('decode', oDec, await theirs('simg2img', [simg, join(dir, 'libsparse.raw')]));
    await rm(join(dir, 'libsparse.raw'));
    const max = 64 * MiB;
    const tSplit = await theirs('simg2simg', [simg, join(dir, 'split'), String(max)]);
    await mkdir(join(dir, 'pieces'));
    record('split', await ours(['split', simg, join(dir, 'pieces'), String(max)]), tSplit);

    if (json) process.stdout.write(`${JSON.stringify({ imageMiB: sizeMiB, rows })}\n`);
    else {
      process.stdout.write(`sparse codec vs libsparse, ${sizeMiB} MiB image (split into ≤ 64 MiB pieces)\n`);
      for (const r of rows) {
        process.stdout.write(
          `${String(r.step).padEnd(7)} ours ${String(r.oursMBps).padStart(5)} MB/s  libsparse ${String(r.libsparseMBps).padStart(5)} MB/s  ratio ${Number(r.ratio).toFixed(2)}  peak RSS ours ${r.oursPeakRssMiB} MiB, libsparse ${r.libsparsePeakRssMiB} MiB\n`,
        );
      }
    }
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
