/**
 * Conformance against the real peers from Debian's android-sdk-libsparse-utils (img2simg, simg2img,
 * simg2simg): libsparse is the judge of what a valid sparse image and a valid split are.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createReadStream } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import {
  decodeSparse,
  emitPieces,
  encodeSparse,
  planSparsePieces,
  rawLayout,
  type SparseChunkInfo,
  type SparseLayout,
  scanRawLayout,
  scanSparseLayout,
} from '../../../main/protocol/fastboot/sparse/index.js';
import { applySparse, collect, pseudoRandom } from '../../unit/sparse/helpers.js';

const run = promisify(execFile);
const tool = (name: string, args: string[]) => run(name, args, { timeout: 60_000 });

let dir = '';

interface Fixture {
  name: string;
  blockSize: number;
  raw: Buffer;
  rawPath: string;
  /** img2simg's output. */
  simgPath: string;
  /** The raw image padded to whole blocks: what simg2img gives back. */
  padded: Buffer;
}

/** A raw image of runs of zeros, byte fills, word fills and random data, with an odd tail. */
function makeRaw(seed: number, blockSize: number, runs: number): Buffer {
  const parts: Buffer[] = [];
  let x = seed;
  for (let i = 0; i < runs; i++) {
    x = (x * 1103515245 + 12345) & 0x7fffffff;
    const n = 1 + (x % 29);
    const k = x % 5;
    if (k === 0) parts.push(Buffer.alloc(n * blockSize));
    else if (k === 1) parts.push(Buffer.alloc(n * blockSize, x & 0xff));
    else if (k === 2) parts.push(Buffer.alloc(n * blockSize, Buffer.from([1, 2, 3, x & 0xff])));
    else parts.push(Buffer.from(pseudoRandom(n * blockSize, x)));
  }
  parts.push(Buffer.from(pseudoRandom((seed * 977) % blockSize, seed)));
  return Buffer.concat(parts);
}

const fixtures: Fixture[] = [];

async function stream(path: string): Promise<AsyncIterable<Uint8Array>> {
  // Odd read sizes so chunk headers straddle reads.
  return createReadStream(path, { highWaterMark: 7919 });
}

/** simg2img each piece and overlay only the block range it covers; returns the combined image. */
async function combineWithSimg2img(
  pieces: { bytes: Buffer; startBlock: number; endBlock: number }[],
  f: Fixture,
) {
  const out = Buffer.alloc(f.padded.length, 0xa5);
  for (const [i, p] of pieces.entries()) {
    const inPath = join(dir, `${f.name}.piece${i}.simg`);
    const outPath = join(dir, `${f.name}.piece${i}.raw`);
    await writeFile(inPath, p.bytes);
    await tool('simg2img', [inPath, outPath]);
    const expanded = await readFile(outPath);
    assert.equal(expanded.length, f.padded.length, 'simg2img expands every piece to the whole image');
    expanded.copy(out, p.startBlock * f.blockSize, p.startBlock * f.blockSize, p.endBlock * f.blockSize);
    await rm(inPath);
    await rm(outPath);
  }
  return out;
}

async function ourPieces(layout: SparseLayout, source: string, max: number) {
  const plan = planSparsePieces(layout, max);
  const pieces: { bytes: Buffer; size: number; startBlock: number; endBlock: number }[] = [];
  for await (const p of emitPieces(plan, await stream(source))) {
    pieces.push({
      bytes: await collect(p.stream),
      size: p.size,
      startBlock: p.startBlock,
      endBlock: p.endBlock,
    });
  }
  for (const p of pieces) {
    assert.equal(p.bytes.length, p.size);
    assert.ok(p.size <= max, `piece of ${p.size} bytes over the ${max}-byte limit`);
  }
  return pieces;
}

/** The chunk list of a sparse image per our decoder, without libsparse's empty (0-block) chunks. */
async function chunkList(bytes: Uint8Array): Promise<string[]> {
  const list: SparseChunkInfo[] = [];
  for await (const _ of decodeSparse([bytes], { onChunk: (c) => list.push(c) })) {
  }
  return list
    .filter((c) => c.blocks > 0)
    .map((c) => `${c.type}@${c.startBlock}+${c.blocks}${c.value ? `=${[...c.value]}` : ''}`);
}

async function simg2simg(f: Fixture, sourcePath: string, max: number): Promise<Buffer[]> {
  const prefix = join(dir, `${f.name}.libsparse-split`);
  await tool('simg2simg', [sourcePath, prefix, String(max)]);
  const names = (await readdir(dir)).filter((n) => n.startsWith(`${f.name}.libsparse-split.`));
  names.sort((a, b) => Number(a.split('.').at(-1)) - Number(b.split('.').at(-1)));
  const out = await Promise.all(names.map((n) => readFile(join(dir, n))));
  await Promise.all(names.map((n) => rm(join(dir, n))));
  return out;
}

describe('sparse codec agrees with libsparse (img2simg / simg2img / simg2simg)', () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flashline-sparse-'));
    for (const [seed, blockSize, runs] of [
      [1, 4096, 40],
      [3, 1024, 60],
      [6, 8192, 20],
    ] as const) {
      const name = `img${seed}`;
      const raw = makeRaw(seed, blockSize, runs);
      const rawPath = join(dir, `${name}.raw`);
      const simgPath = join(dir, `${name}.simg`);
      await writeFile(rawPath, raw);
      await tool('img2simg', [rawPath, simgPath, String(blockSize)]);
      const padded = Buffer.alloc(Math.ceil(raw.length / blockSize) * blockSize);
      raw.copy(padded);
      fixtures.push({ name, blockSize, raw, rawPath, simgPath, padded });
    }
  });
  after(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('our decoder on img2simg output gives back the raw image', async () => {
    for (const f of fixtures) {
      const out = Buffer.alloc(f.padded.length, 0xa5);
      await applySparse(out, await stream(f.simgPath));
      assert.ok(out.equals(f.padded), `${f.name}: decoded image differs`);
    }
  });

  it('our encoder output is byte-identical to img2simg and simg2img restores it', async () => {
    for (const f of fixtures) {
      const layout = await scanRawLayout(await stream(f.rawPath), {
        blockSize: f.blockSize,
        expectedSize: f.raw.length,
      });
      const enc = encodeSparse(layout, await stream(f.rawPath));
      const ours = await collect(enc.stream);
      assert.equal(ours.length, enc.size);
      assert.ok(ours.equals(await readFile(f.simgPath)), `${f.name}: encoder output differs from img2simg`);
      for (const zeroBlocks of ['skip', 'fill'] as const) {
        const l = await scanRawLayout(await stream(f.rawPath), { blockSize: f.blockSize, zeroBlocks });
        const p = join(dir, `${f.name}.ours.simg`);
        await writeFile(p, await collect(encodeSparse(l, await stream(f.rawPath)).stream));
        await tool('simg2img', [p, join(dir, `${f.name}.ours.raw`)]);
        assert.ok(
          (await readFile(join(dir, `${f.name}.ours.raw`))).equals(f.padded),
          `${f.name}/${zeroBlocks}`,
        );
      }
    }
  });

  it('split pieces of a sparse image, expanded by simg2img and overlaid in order, equal the image', async () => {
    for (const f of fixtures) {
      const layout = await scanSparseLayout(await stream(f.simgPath));
      for (const max of [60_000, 400_000]) {
        const pieces = await ourPieces(layout, f.simgPath, max);
        assert.ok((await combineWithSimg2img(pieces, f)).equals(f.padded), `${f.name} max ${max}`);
      }
    }
  });

  it('raw images too big for one download split into pieces simg2img accepts (scanned and size-only)', async () => {
    for (const f of fixtures) {
      const scanned = await scanRawLayout(await stream(f.rawPath), { blockSize: f.blockSize });
      for (const layout of [scanned, rawLayout(f.raw.length, f.blockSize)]) {
        const pieces = await ourPieces(layout, f.rawPath, 150_000);
        assert.ok(pieces.length > 1);
        assert.ok((await combineWithSimg2img(pieces, f)).equals(f.padded), `${f.name}`);
      }
    }
  });

  it('splits like libsparse resparse (simg2simg): same pieces, chunk for chunk', async () => {
    for (const f of fixtures) {
      const layout = await scanSparseLayout(await stream(f.simgPath));
      const rawScanned = await scanRawLayout(await stream(f.rawPath), { blockSize: f.blockSize });
      for (const max of [20_000, 100_000, 300_000]) {
        const theirs = await simg2simg(f, f.simgPath, max);
        for (const [layoutOf, source] of [
          [layout, f.simgPath],
          [rawScanned, f.rawPath],
        ] as const) {
          const ours = await ourPieces(layoutOf, source, max);
          assert.equal(ours.length, theirs.length, `${f.name} max ${max}: piece count`);
          for (const [i, p] of ours.entries()) {
            assert.deepEqual(
              await chunkList(p.bytes),
              await chunkList(theirs[i]!),
              `${f.name} max ${max} piece ${i}`,
            );
          }
        }
        // And our decoder applies libsparse's pieces, in order, into the whole image.
        const out = Buffer.alloc(f.padded.length, 0xa5);
        for (const piece of theirs) await applySparse(out, [piece]);
        assert.ok(out.subarray(0).equals(f.padded), `${f.name} max ${max}: libsparse pieces via our decoder`);
      }
    }
  });
});
