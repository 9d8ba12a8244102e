import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeSparse,
  encodeSparse,
  rawLayout,
  type SparseLayout,
  scanRawLayout,
} from '../../../main/protocol/fastboot/sparse/index.js';
import { collect, expand, pseudoRandom, splitSource } from './helpers.js';

/** A raw image made of blocks of one of four kinds, plus an odd tail. */
const blockKind = fc.constantFrom('zero', 'fill', 'fill2', 'random', 'almost');
const imageArb = fc.record({
  blockSize: fc.constantFrom(4, 16, 64, 512),
  kinds: fc.array(blockKind, { maxLength: 24 }),
  tail: fc.integer({ min: 0, max: 600 }),
  seed: fc.integer({ min: 1, max: 2 ** 31 - 1 }),
  cuts: fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 6 }),
});

function makeImage(blockSize: number, kinds: readonly string[], tail: number, seed: number): Buffer {
  const parts = kinds.map((k, i) => {
    const b = Buffer.alloc(blockSize);
    if (k === 'fill') b.fill(Buffer.from([1, 2, 3, 4]));
    else if (k === 'fill2') b.fill(0xab);
    else if (k === 'random') b.set(pseudoRandom(blockSize, seed + i));
    else if (k === 'almost') b[blockSize - 1] = 1;
    return b;
  });
  parts.push(Buffer.from(pseudoRandom(tail % blockSize, seed ^ 0x5555)));
  return Buffer.concat(parts);
}

function padded(raw: Buffer, blockSize: number): Buffer {
  const out = Buffer.alloc(Math.ceil(raw.length / blockSize) * blockSize);
  raw.copy(out);
  return out;
}

async function encodeWith(layout: SparseLayout, raw: Buffer, cuts: number[]): Promise<Buffer> {
  const enc = encodeSparse(layout, splitSource(raw, cuts));
  const bytes = await collect(enc.stream);
  assert.equal(bytes.length, enc.size, 'announced size must equal the bytes produced');
  return bytes;
}

describe('sparse encoder → decoder round trip', () => {
  it('restores random block patterns with odd tails, whatever the read split', async () => {
    await fc.assert(
      fc.asyncProperty(imageArb, fc.constantFrom<'fill' | 'skip'>('fill', 'skip'), async (p, zeroBlocks) => {
        const raw = makeImage(p.blockSize, p.kinds, p.tail, p.seed);
        const layout = await scanRawLayout(splitSource(raw, p.cuts), { blockSize: p.blockSize, zeroBlocks });
        assert.equal(layout.sourceSize, raw.length);
        const sparse = await encodeWith(layout, raw, p.cuts.slice().reverse());
        assert.ok((await expand(sparse, p.cuts)).equals(padded(raw, p.blockSize)));
        // Fill detection really happened: never more RAW bytes than non-uniform blocks need.
        let uniform = 0;
        for (let at = 0; at + p.blockSize <= raw.length; at += p.blockSize) {
          const block = raw.subarray(at, at + p.blockSize);
          if (block.every((b, i) => b === block[i & 3])) uniform++;
        }
        const rawBlocks = layout.extents.reduce((n, e) => n + (e.kind === 'raw' ? e.blocks : 0), 0);
        assert.equal(rawBlocks, layout.totalBlocks - uniform);
      }),
      { numRuns: 150 },
    );
  });

  it('an all-RAW layout from the size alone round-trips too', async () => {
    await fc.assert(
      fc.asyncProperty(imageArb, async (p) => {
        const raw = makeImage(p.blockSize, p.kinds, p.tail, p.seed);
        const sparse = await encodeWith(rawLayout(raw.length, p.blockSize), raw, p.cuts);
        assert.ok((await expand(sparse)).equals(padded(raw, p.blockSize)));
      }),
      { numRuns: 60 },
    );
  });

  it('encodes an empty image as a valid empty sparse image', async () => {
    const sparse = await encodeWith(await scanRawLayout(splitSource(Buffer.alloc(0))), Buffer.alloc(0), [1]);
    assert.equal(sparse.length, 28);
    assert.equal((await expand(sparse)).length, 0);
  });

  it('refuses a source that changed between scan and encode', async () => {
    const raw = makeImage(64, ['zero', 'random', 'fill'], 10, 3);
    const layout = await scanRawLayout(splitSource(raw), { blockSize: 64 });
    const changed = Buffer.from(raw);
    changed[5] = 9;
    await assert.rejects(
      collect(encodeSparse(layout, splitSource(changed)).stream),
      /does not match its scan/,
    );
    await assert.rejects(
      collect(encodeSparse(layout, splitSource(raw.subarray(0, raw.length - 1))).stream),
      /ended at byte|incomplete/,
    );
    await assert.rejects(
      collect(encodeSparse(layout, splitSource(Buffer.concat([raw, Buffer.alloc(1)]))).stream),
      /longer than/,
    );
  });

  it('keeps no view of the source in layouts or fill operations (memory stays bounded)', async () => {
    // Buffer#slice returns a view: one kept per fill extent would pin a whole source chunk each.
    const raw = Buffer.concat([Buffer.alloc(64, 7), Buffer.from(pseudoRandom(64, 1)), Buffer.alloc(64, 9)]);
    const layout = await scanRawLayout([raw], { blockSize: 64 });
    const fills = layout.extents.filter((e) => e.kind === 'fill');
    assert.equal(fills.length, 2);
    for (const f of fills) assert.equal(f.value.buffer.byteLength, 4);
    const sparse = await encodeWith(layout, raw, [raw.length]);
    let seen = 0;
    for await (const op of decodeSparse([sparse])) {
      if (op.kind === 'fill') {
        assert.equal(op.value.buffer.byteLength, 4);
        seen++;
      }
    }
    assert.equal(seen, 2);
  });
});
