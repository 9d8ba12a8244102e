import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  emitPieces,
  minimumDownloadSize,
  parseSparseHeader,
  planSparsePieces,
  rawLayout,
  type SparseLayout,
  scanRawLayout,
  scanSparseLayout,
} from '../../../main/protocol/fastboot/sparse/index.js';
import { applySparse, buildSparse, type ChunkSpec, collect, pseudoRandom, splitSource } from './helpers.js';

const chunkArb = (bs: number) =>
  fc
    .oneof(
      fc.record({ type: fc.constant('raw' as const), n: fc.integer({ min: 1, max: 9 }), seed: fc.nat() }),
      fc.record({ type: fc.constant('fill' as const), n: fc.integer({ min: 1, max: 50 }), seed: fc.nat() }),
      fc.record({ type: fc.constant('skip' as const), n: fc.integer({ min: 1, max: 50 }), seed: fc.nat() }),
      fc.record({ type: fc.constant('crc' as const), n: fc.constant(0), seed: fc.nat() }),
    )
    .map((c): ChunkSpec => {
      if (c.type === 'raw') return { type: 'raw', data: pseudoRandom(c.n * bs, c.seed + 1) };
      if (c.type === 'fill') return { type: 'fill', blocks: c.n, value: c.seed };
      if (c.type === 'skip') return { type: 'skip', blocks: c.n };
      return { type: 'crc' };
    });

const sparseArb = fc
  .constantFrom(8, 64, 512)
  .chain((bs) => fc.record({ bs: fc.constant(bs), chunks: fc.array(chunkArb(bs), { maxLength: 12 }) }));

interface PieceOut {
  bytes: Buffer;
  size: number;
  startBlock: number;
  endBlock: number;
}

async function split(
  layout: SparseLayout,
  source: Uint8Array,
  max: number,
  cuts: number[],
): Promise<PieceOut[]> {
  const plan = planSparsePieces(layout, max);
  const out: PieceOut[] = [];
  for await (const p of emitPieces(plan, splitSource(source, cuts))) {
    assert.equal(p.count, plan.pieces.length);
    assert.equal(p.index, out.length);
    out.push({
      bytes: await collect(p.stream),
      size: p.size,
      startBlock: p.startBlock,
      endBlock: p.endBlock,
    });
  }
  return out;
}

/** Every piece: exact size, within the limit, a valid sparse image of the full size writing only its range. */
async function checkPieces(
  pieces: PieceOut[],
  layout: SparseLayout,
  max: number,
  expected: Buffer,
): Promise<void> {
  const bs = layout.blockSize;
  const garbage = Buffer.alloc(layout.totalBlocks * bs, 0x5a);
  const target = Buffer.from(garbage);
  let next = 0;
  for (const p of pieces) {
    assert.equal(p.bytes.length, p.size);
    assert.ok(p.size <= max, `piece of ${p.size} bytes exceeds ${max}`);
    assert.equal(p.startBlock, next);
    next = p.endBlock;
    const h = parseSparseHeader(p.bytes);
    assert.equal(h.totalBlocks, layout.totalBlocks);
    const alone = Buffer.from(garbage);
    await applySparse(alone, splitSource(p.bytes, [97]));
    assert.ok(alone.subarray(0, p.startBlock * bs).equals(garbage.subarray(0, p.startBlock * bs)));
    assert.ok(alone.subarray(p.endBlock * bs).equals(garbage.subarray(p.endBlock * bs)));
    await applySparse(target, splitSource(p.bytes));
  }
  assert.equal(next, layout.totalBlocks);
  assert.ok(target.equals(expected), 'pieces applied in order must equal the whole image');
}

describe('sparse splitter', () => {
  it('re-splits sparse images for any max-download-size (pieces valid, ≤ limit, union = image)', async () => {
    await fc.assert(
      fc.asyncProperty(
        sparseArb,
        fc.integer({ min: 0, max: 3000 }),
        fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 5 }),
        async ({ bs, chunks }, extra, cuts) => {
          const img = buildSparse({ blockSize: bs, chunks });
          const layout = await scanSparseLayout(splitSource(img, cuts));
          const max = minimumDownloadSize(bs) + extra;
          const expected = Buffer.alloc(layout.totalBlocks * bs, 0x5a);
          await applySparse(expected, splitSource(img));
          const pieces = await split(layout, img, max, cuts);
          if (img.length <= max) {
            assert.equal(pieces.length, 1);
            assert.ok(pieces[0]!.bytes.equals(img), 'a fitting sparse image passes through unchanged');
          }
          await checkPieces(pieces, layout, max, expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('splits raw images (scanned or size-only) for any max-download-size', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(8, 64, 512),
        fc.array(fc.constantFrom('zero', 'fill', 'random'), { maxLength: 30 }),
        fc.integer({ min: 0, max: 511 }),
        fc.integer({ min: 0, max: 4000 }),
        fc.boolean(),
        fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 5 }),
        async (bs, kinds, tail, extra, scan, cuts) => {
          const raw = Buffer.concat([
            ...kinds.map((k, i) =>
              k === 'zero'
                ? Buffer.alloc(bs)
                : k === 'fill'
                  ? Buffer.alloc(bs, 7)
                  : Buffer.from(pseudoRandom(bs, i + 1)),
            ),
            Buffer.from(pseudoRandom(tail % bs, 99)),
          ]);
          const layout = scan
            ? await scanRawLayout(splitSource(raw, cuts), { blockSize: bs })
            : rawLayout(raw.length, bs);
          const max = minimumDownloadSize(bs) + extra;
          const expected = Buffer.alloc(layout.totalBlocks * bs);
          raw.copy(expected);
          await checkPieces(await split(layout, raw, max, cuts), layout, max, expected);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('cuts a raw image into pieces as large as the limit allows', () => {
    const layout = rawLayout(100 * 4096);
    const plan = planSparsePieces(layout, 28 + 2 * 12 + 4 + 12 + 10 * 4096);
    assert.equal(plan.pieces.length, 10);
    assert.deepEqual(
      plan.pieces.map((p) => [p.startBlock, p.endBlock]),
      Array.from({ length: 10 }, (_, i) => [i * 10, i * 10 + 10]),
    );
  });

  it('rejects a limit too small for one block and a non-integer limit', () => {
    const layout = rawLayout(10 * 4096);
    assert.throws(
      () => planSparsePieces(layout, minimumDownloadSize(4096) - 1),
      /too small.*need at least 4176/,
    );
    assert.throws(() => planSparsePieces(layout, 1.5), /not a positive byte count/);
  });

  it('insists each piece is read to its end, once, before the next', async () => {
    const raw = Buffer.from(pseudoRandom(8 * 64, 4));
    const plan = planSparsePieces(rawLayout(raw.length, 64), minimumDownloadSize(64) + 64);
    const it = emitPieces(plan, splitSource(raw))[Symbol.asyncIterator]();
    const first = await it.next();
    assert.ok(!first.done);
    await assert.rejects(it.next(), /not read to its end/);
    const again = emitPieces(plan, splitSource(raw))[Symbol.asyncIterator]();
    const p = await again.next();
    assert.ok(!p.done);
    await collect(p.value.stream);
    await assert.rejects(collect(p.value.stream), /read only once/);
  });

  it('surfaces a CRC mismatch of the source inside the piece stream', async () => {
    const img = buildSparse({
      blockSize: 64,
      chunks: [
        { type: 'raw', data: pseudoRandom(640, 1) },
        { type: 'crc', value: 1 },
      ],
    });
    const layout = await scanSparseLayout(
      splitSource(
        buildSparse({
          blockSize: 64,
          chunks: [{ type: 'raw', data: pseudoRandom(640, 1) }, { type: 'crc' }],
        }),
      ),
    );
    await assert.rejects(split(layout, img, minimumDownloadSize(64) + 200, [50]), /CRC32 mismatch/);
  });

  it('passes raw data through as subarrays of the source chunks (no copies on the hot path)', async () => {
    const chunks = [Buffer.from(pseudoRandom(64 * 40, 8)), Buffer.from(pseudoRandom(64 * 25 + 3, 9))];
    const sources = new Set(chunks.map((c) => c.buffer));
    const plan = planSparsePieces(rawLayout(64 * 65 + 3, 64), minimumDownloadSize(64) + 64 * 20);
    let viewBytes = 0;
    for await (const p of emitPieces(plan, chunks)) {
      for await (const b of p.stream) {
        if (sources.has(b.buffer as ArrayBuffer)) viewBytes += b.byteLength;
        // Anything else is a header or the zero padding of the last partial block.
        else assert.ok(b.byteLength <= 64, `a ${b.byteLength}-byte copy`);
      }
    }
    assert.equal(viewBytes, 64 * 65 + 3, 'every source byte went out as a view');
  });

  it('refuses a sparse source whose chunks differ from the scanned layout', async () => {
    const scanned = buildSparse({
      blockSize: 64,
      chunks: [
        { type: 'raw', data: pseudoRandom(640, 1) },
        { type: 'fill', blocks: 30, value: 3 },
      ],
    });
    const other = buildSparse({
      blockSize: 64,
      chunks: [
        { type: 'fill', blocks: 10, value: 3 },
        { type: 'fill', blocks: 30, value: 3 },
      ],
    });
    const layout = await scanSparseLayout(splitSource(scanned));
    await assert.rejects(
      split(layout, other, minimumDownloadSize(64) + 100, [64]),
      /does not match its scan/,
    );
  });

  it('plans multi-GiB layouts consistently (sizes, ranges, every data block exactly once)', () => {
    const extentArb = fc.record({
      kind: fc.constantFrom('raw', 'fill', 'skip'),
      blocks: fc.integer({ min: 1, max: 200_000 }),
      value: fc.integer({ min: 0, max: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(extentArb, { maxLength: 40 }),
        fc.constantFrom(512, 4096, 65536),
        fc.integer({ min: 1, max: 300 }),
        (specs, bs, targetPieces) => {
          let at = 0;
          const extents = specs.map((e) => {
            const x =
              e.kind === 'fill'
                ? {
                    kind: 'fill' as const,
                    startBlock: at,
                    blocks: e.blocks,
                    value: new Uint8Array([e.value, 0, 0, 0]),
                  }
                : { kind: e.kind as 'raw' | 'skip', startBlock: at, blocks: e.blocks };
            at += e.blocks;
            return x;
          });
          const layout: SparseLayout = {
            source: 'raw',
            blockSize: bs,
            totalBlocks: at,
            sourceSize: at * bs,
            hasCrc: false,
            extents,
          };
          const rawBytes = extents.reduce((n, e) => n + (e.kind === 'raw' ? e.blocks * bs : 0), 0);
          // Keep the piece count test-sized: about targetPieces pieces of RAW data.
          const max = minimumDownloadSize(bs) + Math.ceil(rawBytes / targetPieces) + 16 * extents.length;
          const plan = planSparsePieces(layout, max);
          let next = 0;
          let e = 0;
          let dataEnd = 0;
          const seen = { raw: 0, fill: 0 };
          for (const p of plan.pieces) {
            assert.ok(p.size <= max);
            assert.equal(p.startBlock, next);
            next = p.endBlock;
            let block = 0;
            let size = 28;
            for (const c of p.chunks) {
              assert.equal(c.startBlock, block, 'chunks are contiguous from block 0');
              assert.ok(c.blocks > 0);
              block += c.blocks;
              size += 12 + (c.kind === 'raw' ? c.blocks * bs : c.kind === 'fill' ? 4 : 0);
              if (c.kind === 'skip') continue;
              assert.ok(c.startBlock >= p.startBlock && block <= p.endBlock, 'data stays in the piece range');
              // Data chunks come in image order, each inside a layout extent of the same kind and value.
              assert.ok(c.startBlock >= dataEnd, 'no block is written twice');
              dataEnd = block;
              while (extents[e]!.startBlock + extents[e]!.blocks <= c.startBlock) e++;
              const x = extents[e]!;
              assert.equal(x.kind, c.kind);
              assert.ok(block <= x.startBlock + x.blocks);
              if (c.kind === 'fill' && x.kind === 'fill') assert.equal(c.value[0], x.value[0]);
              seen[c.kind] += c.blocks;
            }
            assert.equal(block, at, 'every piece spans the whole image');
            assert.equal(size, p.size, 'announced size is the sum of the chunks');
          }
          assert.equal(next, at);
          assert.equal(seen.raw, rawBytes / bs);
          assert.equal(
            seen.fill,
            extents.reduce((n, x) => n + (x.kind === 'fill' ? x.blocks : 0), 0),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
