/**
 * The engine's image pieces, planned and emitted by the shared sparse codec: every piece fits the limit,
 * the pieces decoded by the shared decoder rebuild the image exactly, the plan is deterministic, and the
 * source's end checks (the package hash) run before the last piece can be flashed.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  type ImagePlan,
  imagePieces,
  PieceLimitTooSmall,
  pieceLimit,
  planIdentity,
  planImage,
} from '../../../main/flash/pieces.js';
import type { FlashImage } from '../../../main/flash/ports.js';
import { decodeSparse, encodeSparse, scanRawLayout } from '../../../main/protocol/fastboot/sparse/index.js';

const BS = 4096;
const signal = new AbortController().signal;

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

/** A raw image with random runs, fill runs and zero runs (so sparse images get RAW and FILL chunks). */
function makeImage(size: number, seed: number): Uint8Array {
  const out = new Uint8Array(size);
  let x = seed >>> 0 || 1;
  const rnd = () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
  for (let at = 0; at < size; ) {
    const run = Math.min(size - at, (1 + (rnd() % 6)) * BS);
    const kind = rnd() % 3;
    for (let i = 0; i < run; i++) out[at + i] = kind === 0 ? rnd() & 0xff : kind === 1 ? 0xa5 : 0;
    at += run;
  }
  return out;
}

async function sparseOf(raw: Uint8Array): Promise<Uint8Array> {
  const layout = await scanRawLayout(chunked(raw, 10_000));
  return collect(encodeSparse(layout, chunked(raw, 7_000)).stream);
}

const image = (size: number, sparse = false): FlashImage => ({
  partition: 'system',
  size,
  sha256: '0'.repeat(64),
  slotted: true,
  sparse,
});

/** Emit every piece with a consumer that stops at the announced size, then apply it as a device would. */
async function flashAll(plan: ImagePlan, bytes: Uint8Array, readSize: number): Promise<Buffer> {
  const device = Buffer.alloc(plan.deviceSize);
  for await (const piece of imagePieces(plan, chunked(bytes, readSize), signal)) {
    const planned = plan.pieces[piece.index];
    assert.equal(piece.size, planned?.size);
    assert.ok(piece.size <= plan.limit, `piece ${piece.index} is ${piece.size} > ${plan.limit}`);
    const wire: Buffer[] = [];
    let got = 0;
    for await (const b of piece.stream) {
      wire.push(Buffer.from(b));
      got += b.byteLength;
      if (got >= piece.size) break;
    }
    await piece.finish();
    const data = Buffer.concat(wire);
    assert.equal(data.length, piece.size);
    if (data.length < 28 || data.readUInt32LE(0) !== 0xed26ff3a) {
      data.copy(device, 0);
      continue;
    }
    for await (const op of decodeSparse([data])) {
      if (op.kind === 'data') device.set(op.bytes, op.offset);
      else if (op.kind === 'fill') device.fill(Buffer.from(op.value), op.offset, op.offset + op.length);
    }
  }
  return device;
}

describe('image pieces on the shared sparse codec', () => {
  it('raw images over the limit: every piece fits and the pieces rebuild the image (zero-padded)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 60_000 }),
        fc.integer({ min: 4176, max: 20_000 }),
        fc.integer({ min: 1, max: 9000 }),
        fc.integer(),
        async (size, limit, readSize, seed) => {
          const raw = makeImage(size, seed);
          const plan = await planImage(image(size), limit, () => chunked(raw, readSize), signal);
          if (size <= limit) {
            assert.equal(plan.pieces.length, 1);
            assert.equal(plan.sparse, undefined);
          }
          assert.equal(plan.deviceSize, size <= limit ? size : Math.ceil(size / BS) * BS);
          assert.equal(
            plan.pieces.reduce((a, p) => a + p.deviceBytes, 0),
            plan.deviceSize,
          );
          const device = await flashAll(plan, raw, readSize);
          assert.deepEqual(device.subarray(0, size), Buffer.from(raw));
          assert.ok(device.subarray(size).every((b) => b === 0));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('sparse images over the limit are re-split (scan pass + emit pass), not refused', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 4176, max: 30_000 }),
        fc.integer({ min: 1, max: 9000 }),
        fc.integer(),
        async (blocks, limit, readSize, seed) => {
          const raw = makeImage(blocks * BS, seed);
          const sparse = await sparseOf(raw);
          let opens = 0;
          const plan = await planImage(
            image(sparse.length, true),
            limit,
            () => {
              opens++;
              return chunked(sparse, readSize);
            },
            signal,
          );
          assert.equal(opens, 1);
          assert.equal(plan.deviceSize, raw.length);
          if (sparse.length > limit) assert.ok(plan.sparse && !plan.sparse.passThrough);
          const device = await flashAll(plan, sparse, readSize);
          assert.deepEqual(device, Buffer.from(raw));
        },
      ),
      { numRuns: 40 },
    );
  });

  it('sends an image that fits as it is: raw bytes, or the sparse file unchanged', async () => {
    const raw = makeImage(5000, 7);
    const rawPlan = await planImage(image(5000), 8192, () => chunked(raw, 999), signal);
    assert.deepEqual(planIdentity(rawPlan), [5000]);
    const sparse = await sparseOf(makeImage(8 * BS, 9));
    const plan = await planImage(image(sparse.length, true), 1 << 20, () => chunked(sparse, 100), signal);
    assert.deepEqual(planIdentity(plan), [sparse.length]);
    assert.equal(plan.deviceSize, 8 * BS);
    for await (const piece of imagePieces(plan, chunked(sparse, 333), signal)) {
      assert.deepEqual(await collect(piece.stream), Buffer.from(sparse));
      await piece.finish();
    }
  });

  it('plans deterministically, so a resumed job gets the same pieces', async () => {
    const raw = makeImage(300_000, 3);
    const sparse = await sparseOf(raw);
    const a = await planImage(image(sparse.length, true), 20_000, () => chunked(sparse, 4096), signal);
    const b = await planImage(image(sparse.length, true), 20_000, () => chunked(sparse, 65_536), signal);
    assert.ok(a.pieces.length > 2);
    assert.deepEqual(planIdentity(a), planIdentity(b));
    assert.equal(pieceLimit(1 << 20, 256 << 10), 256 << 10);
    assert.equal(pieceLimit(64 << 10, 256 << 10), 64 << 10);
  });

  it('refuses a limit that cannot carry one sparse block', async () => {
    const raw = makeImage(20_000, 1);
    await assert.rejects(
      planImage(image(20_000), 4096, () => chunked(raw, 4096), signal),
      (err: unknown) => err instanceof PieceLimitTooSmall && err.minimum > 4096,
    );
  });

  it('rejects a file marked sparse that is not one, with the reason', async () => {
    const raw = makeImage(20_000, 1);
    await assert.rejects(
      planImage(image(20_000, true), 8192, () => chunked(raw, 4096), signal),
      /sparse image|magic/i,
    );
  });

  it("surfaces the source's end check (package hash) on the last piece, before it can be flashed", async () => {
    const raw = makeImage(40_000, 5);
    const plan = await planImage(image(40_000), 10_000, () => chunked(raw, 4096), signal);
    async function* hashFailsAtEnd(): AsyncGenerator<Uint8Array> {
      yield* chunked(raw, 4096);
      throw new Error('image system does not match its signed hash');
    }
    const finished: number[] = [];
    await assert.rejects(async () => {
      for await (const piece of imagePieces(plan, hashFailsAtEnd(), signal)) {
        let got = 0;
        for await (const b of piece.stream) {
          got += b.byteLength;
          if (got >= piece.size) break;
        }
        await piece.finish();
        finished.push(piece.index);
      }
    }, /signed hash/);
    assert.deepEqual(
      finished,
      plan.pieces.slice(0, -1).map((p) => p.index),
    );
  });

  it('detects an image stream longer or shorter than declared (an image that goes as one piece)', async () => {
    const plan = await planImage(image(90), 1 << 20, () => chunked(new Uint8Array(90), 30), signal);
    let pieces = 0;
    for await (const longer of imagePieces(plan, chunked(new Uint8Array(100), 30), signal)) {
      pieces++;
      assert.equal((await collect(longer.stream)).length, 90);
      await assert.rejects(longer.finish(), /longer than its declared size/);
    }
    for await (const shorter of imagePieces(plan, chunked(new Uint8Array(80), 30), signal)) {
      pieces++;
      await assert.rejects(collect(shorter.stream), /ended before its declared size/);
    }
    assert.equal(pieces, 2);
  });
});
