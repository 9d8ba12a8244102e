/**
 * `npm run bench -- sparse [--json] [--size MiB]`: Flashline's sparse codec against libsparse's own tools in
 * the same run, on a generated image (mixed random data, zero runs and fills, odd tail):
 *   encode  scanRawLayout + encodeSparse → file   vs  img2simg
 *   decode  decodeSparse → file                   vs  simg2img
 *   split   scanSparseLayout + emitPieces → files vs  simg2simg (64 MiB pieces)
 * Prints MB/s of the expanded image, the ratio ours/libsparse (>1 is faster) and our peak RSS during each
 * step, which must stay flat whatever --size is (libsparse's img2simg keeps only a block list, too).
 */
import { execFile } from 'node:child_process';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, open, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import {
  decodeSparse,
  emitPieces,
  encodeSparse,
  planSparsePieces,
  scanRawLayout,
  scanSparseLayout,
} from '../main/protocol/fastboot/sparse/index.js';

const exec = promisify(execFile);
const MiB = 1024 * 1024;

function makeBlockPattern(i: number, block: Buffer, seed: number): Buffer {
  const k = (i * 2654435761 + seed) % 10;
  if (k < 3) return block.fill(0);
  if (k < 4) return block.fill(i & 0xff);
  for (let j = 0; j < block.length; j += 4)
    block.writeUInt32LE(((i + 1) * 2246822519 + j * 3266489917) >>> 0, j);
  return block;
}

async function writeImage(path: string, bytes: number): Promise<void> {
  const out = createWriteStream(path);
  const block = Buffer.alloc(MiB);
  for (let i = 0; i * MiB < bytes; i++) {
    const chunk = makeBlockPattern(i, block, 7).subarray(0, Math.min(MiB, bytes - i * MiB));
    if (!out.write(Buffer.from(chunk))) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  out.end();
  await finished(out);
}

/** Peak RSS sampled while `fn` runs (the sampler is cheap and the steps last seconds). */
async function timed(fn: () => Promise<void>): Promise<{ seconds: number; peakRss: number }> {
  let peak = process.memoryUsage.rss();
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 20);
  const t0 = process.hrtime.bigint();
  try {
    await fn();
  } finally {
    clearInterval(timer);
  }
  peak = Math.max(peak, process.memoryUsage.rss());
  return { seconds: Number(process.hrtime.bigint() - t0) / 1e9, peakRss: peak };
}

async function pipeTo(path: string, stream: AsyncIterable<Uint8Array>): Promise<void> {
  const out = createWriteStream(path);
  for await (const b of stream)
    if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
  out.end();
  await finished(out);
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
    const rawPath = join(dir, 'image.raw');
    const bytes = sizeMiB * MiB + 1234;
    await writeImage(rawPath, bytes);
    const rows: {
      step: string;
      oursMBps: number;
      libsparseMBps: number;
      ratio: number;
      oursPeakRssMiB: number;
    }[] = [];
    const mbps = (s: number) => bytes / 1e6 / s;
    const record = (step: string, ours: { seconds: number; peakRss: number }, theirs: { seconds: number }) =>
      rows.push({
        step,
        oursMBps: Math.round(mbps(ours.seconds)),
        libsparseMBps: Math.round(mbps(theirs.seconds)),
        ratio: Math.round((theirs.seconds / ours.seconds) * 100) / 100,
        oursPeakRssMiB: Math.round(ours.peakRss / MiB),
      });

    const simgPath = join(dir, 'libsparse.simg');
    const theirsEnc = await timed(async () => void (await exec('img2simg', [rawPath, simgPath])));
    const oursEnc = await timed(async () => {
      const layout = await scanRawLayout(createReadStream(rawPath), { expectedSize: bytes });
      await pipeTo(join(dir, 'ours.simg'), encodeSparse(layout, createReadStream(rawPath)).stream);
    });
    record('encode', oursEnc, theirsEnc);

    const theirsDec = await timed(
      async () => void (await exec('simg2img', [simgPath, join(dir, 'libsparse.raw')])),
    );
    await rm(join(dir, 'libsparse.raw'));
    const oursDec = await timed(async () => {
      const fh = await open(join(dir, 'ours.raw'), 'w');
      try {
        let size = 0;
        for await (const op of decodeSparse(createReadStream(simgPath, { highWaterMark: MiB }))) {
          if (op.kind === 'data') await fh.write(op.bytes, 0, op.bytes.byteLength, op.offset);
          else if (op.kind === 'fill') {
            const pattern = Buffer.alloc(Math.min(op.length, MiB), op.value);
            for (let at = 0; at < op.length; at += pattern.length) {
              await fh.write(pattern, 0, Math.min(pattern.length, op.length - at), op.offset + at);
            }
          }
          size = op.offset + (op.kind === 'data' ? op.bytes.byteLength : op.length);
        }
        await fh.truncate(size);
      } finally {
        await fh.close();
      }
    });
    await rm(join(dir, 'ours.raw'));
    record('decode', oursDec, theirsDec);

    const max = 64 * MiB;
    const theirsSplit = await timed(
      async () => void (await exec('simg2simg', [simgPath, join(dir, 'split'), String(max)])),
    );
    const oursSplit = await timed(async () => {
      const plan = planSparsePieces(await scanSparseLayout(createReadStream(simgPath)), max);
      for await (const p of emitPieces(plan, createReadStream(simgPath)))
        await pipeTo(join(dir, `piece${p.index}`), p.stream);
    });
    record('split', oursSplit, theirsSplit);
    const pieces = (await readdir(dir)).filter((n) => n.startsWith('piece')).length;

    const result = { imageMiB: sizeMiB, pieces, rows };
    if (json) process.stdout.write(`${JSON.stringify(result)}\n`);
    else {
      process.stdout.write(
        `sparse codec vs libsparse, ${sizeMiB} MiB image (${pieces} pieces of ≤ 64 MiB)\n`,
      );
      for (const r of rows) {
        process.stdout.write(
          `${r.step.padEnd(7)} ours ${String(r.oursMBps).padStart(5)} MB/s  libsparse ${String(r.libsparseMBps).padStart(5)} MB/s  ratio ${r.ratio.toFixed(2)}  our peak RSS ${r.oursPeakRssMiB} MiB\n`,
        );
      }
    }
    return 0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
