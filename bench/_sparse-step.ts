/**
 * Child process of bench/sparse.ts: runs ONE step of Flashline's sparse codec so its peak RSS (VmHWM) is the
 * step's own, not the benchmark driver's. `split` is the engine's own path (main/flash/pieces.ts: the plan
 * and pieces a job sends). Prints {"seconds":…,"peakRssKiB":…}.
 * Usage: _sparse-step.ts encode RAW OUT | decode SIMG OUT | split SIMG OUTDIR MAX
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { finished } from 'node:stream/promises';
import { imagePieces, planImage } from '../main/flash/pieces.js';
import { decodeSparse, encodeSparse, scanRawLayout } from '../main/protocol/fastboot/sparse/index.js';

const MiB = 1024 * 1024;
/** 1 MiB reads, as the package reader delivers image data. */
const READ = { highWaterMark: MiB };

async function pipeTo(path: string, stream: AsyncIterable<Uint8Array>): Promise<void> {
  const out = createWriteStream(path);
  for await (const b of stream)
    if (!out.write(b)) await new Promise<void>((r) => out.once('drain', () => r()));
  out.end();
  await finished(out);
}

async function decodeTo(input: string, output: string): Promise<void> {
  const fh = await open(output, 'w');
  try {
    let size = 0;
    for await (const op of decodeSparse(createReadStream(input, READ))) {
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
}

const [step, a, b, c] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
if (step === 'encode' && a && b) {
  const layout = await scanRawLayout(createReadStream(a, READ));
  await pipeTo(b, encodeSparse(layout, createReadStream(a, READ)).stream);
} else if (step === 'decode' && a && b) {
  await decodeTo(a, b);
} else if (step === 'split' && a && b && c) {
  const signal = new AbortController().signal;
  const image = { partition: 'system', size: (await stat(a)).size, sha256: '', slotted: false, sparse: true };
  const plan = await planImage(image, Number(c), () => createReadStream(a, READ), signal);
  for await (const p of imagePieces(plan, createReadStream(a, READ), signal)) {
    await pipeTo(join(b, `piece${p.index}`), p.stream);
    await p.finish();
  }
} else {
  process.stderr.write('usage: _sparse-step.ts encode RAW OUT | decode SIMG OUT | split SIMG OUTDIR MAX\n');
  process.exit(2);
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
const status = await readFile('/proc/self/status', 'utf8');
const peakRssKiB = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0);
process.stdout.write(`${JSON.stringify({ seconds, peakRssKiB })}\n`);
