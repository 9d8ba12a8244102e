import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  ByteCursor,
  pieceBytes,
  pieceSizeFor,
  planPieces,
  SPARSE_BLOCK,
} from '../../../main/flash/pieces.js';
import { decodeSparse } from '../../../main/protocol/fastboot/sparse/index.js';

async function* chunked(data: Uint8Array, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(it: AsyncIterable<Uint8Array>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const c of it) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

describe('image pieces', () => {
  it('reassemble into the image (padded to a block) through the shared sparse decoder', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 40_000 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 9000 }),
        async (size, blocksPerPiece, chunk) => {
          const image = Uint8Array.from({ length: size }, (_, i) => (i * 7 + 3) & 0xff);
          const pieceSize = blocksPerPiece * SPARSE_BLOCK;
          const pieces = planPieces(size, pieceSize, pieceSize + 64);
          const cursor = new ByteCursor(chunked(image, chunk));
          const expanded = Buffer.alloc(Math.ceil(size / SPARSE_BLOCK) * SPARSE_BLOCK);
          let covered = 0;
          for (const p of pieces) {
            const wire = await collect(pieceBytes(cursor, p, size));
            assert.equal(wire.length, p.wireSize);
            if (!p.sparse) {
              expanded.set(wire, 0);
              covered += wire.length;
              continue;
            }
            const ops = decodeSparse(
              (async function* () {
                yield wire;
              })(),
            );
            for (let r = await ops.next(); !r.done; r = await ops.next()) {
              if (r.value.kind === 'data') {
                expanded.set(r.value.bytes, r.value.offset);
                covered += r.value.bytes.length;
              }
            }
          }
          await cursor.finish();
          assert.ok(covered >= size);
          assert.deepEqual(expanded.subarray(0, size), Buffer.from(image));
          assert.ok(expanded.subarray(size).every((b) => b === 0));
        },
      ),
      { numRuns: 30 },
    );
  });

  it('sends an image that fits one piece raw, as fastboot flash does', () => {
    assert.deepEqual(planPieces(5000, 8192, 1 << 20), [
      { index: 0, offset: 0, length: 5000, wireSize: 5000, sparse: false },
    ]);
  });

  it('caps pieces by the download buffer, block-aligned', () => {
    assert.equal(pieceSizeFor(1024 * 1024, 64 << 20), 1024 * 1024 - SPARSE_BLOCK);
    assert.equal(pieceSizeFor(4096, 64 << 20), 0);
  });

  it('detects an image stream longer than declared', async () => {
    const cursor = new ByteCursor(chunked(new Uint8Array(100), 30));
    await collect(cursor.take(90));
    await assert.rejects(cursor.finish(), /longer than its declared size/);
  });
});
