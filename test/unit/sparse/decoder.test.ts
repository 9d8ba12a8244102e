import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import fc from 'fast-check';
import {
  decodeSparse,
  isSparseHeader,
  parseSparseHeader,
  type SparseFormatError,
  type SparseOp,
} from '../../../main/protocol/fastboot/sparse/index.js';
import { buildSparse, expand, type ImageSpec, pseudoRandom, splitSource } from './helpers.js';

const BS = 4096;

async function ops(bytes: Uint8Array, cuts?: number[]): Promise<SparseOp[]> {
  const out: SparseOp[] = [];
  for await (const op of decodeSparse(splitSource(bytes, cuts))) {
    out.push(op.kind === 'data' ? { ...op, bytes: op.bytes.slice() } : op);
  }
  return out;
}

async function rejects(bytes: Uint8Array, pattern: RegExp, cuts?: number[]): Promise<SparseFormatError> {
  let caught: unknown;
  try {
    await ops(bytes, cuts);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof Error, 'expected the decoder to throw');
  assert.equal(caught.name, 'SparseFormatError', `unexpected error: ${caught.message}`);
  assert.match(caught.message, pattern);
  return caught as SparseFormatError;
}

const sample: ImageSpec = {
  chunks: [
    { type: 'raw', data: pseudoRandom(2 * BS, 7) },
    { type: 'fill', blocks: 3, value: 0x04030201 },
    { type: 'skip', blocks: 2 },
    { type: 'crc' },
    { type: 'raw', data: pseudoRandom(BS, 9) },
    { type: 'crc' },
  ],
};

describe('sparse decoder', () => {
  it('recognises the magic and parses the header', () => {
    const img = buildSparse(sample);
    assert.equal(isSparseHeader(img.subarray(0, 4)), true);
    assert.equal(isSparseHeader(new Uint8Array([0x3a, 0xff, 0x26])), false);
    assert.equal(isSparseHeader(new Uint8Array(28)), false);
    const h = parseSparseHeader(img);
    assert.deepEqual(
      { bs: h.blockSize, blocks: h.totalBlocks, chunks: h.totalChunks },
      { bs: BS, blocks: 8, chunks: 6 },
    );
  });

  it('yields data, fill and skip operations at the right offsets and verifies CRC32 chunks', async () => {
    const list = await ops(buildSparse(sample));
    assert.deepEqual(
      list.map((o) => [o.kind, o.offset, o.kind === 'data' ? o.bytes.byteLength : o.length]),
      [
        ['data', 0, 2 * BS],
        ['fill', 2 * BS, 3 * BS],
        ['skip', 5 * BS, 2 * BS],
        ['data', 7 * BS, BS],
      ],
    );
    const fill = list[1];
    assert.ok(fill?.kind === 'fill');
    assert.deepEqual([...fill.value], [1, 2, 3, 4]);
  });

  it('gives the same expanded image whatever the read split (chunk boundaries anywhere)', async () => {
    const img = buildSparse(sample);
    const whole = await expand(img);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 1, maxLength: 10 }),
        async (cuts) => {
          assert.ok((await expand(img, cuts)).equals(whole));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('skips extra file and chunk header bytes as libsparse does', async () => {
    const plain = await expand(buildSparse(sample));
    const wide = buildSparse({ ...sample, fileHeaderSize: 40, chunkHeaderSize: 20 });
    assert.ok((await expand(wide, [5])).equals(plain));
  });

  it('reports the header before operations and the summary at the end', async () => {
    const img = buildSparse({ chunks: [{ type: 'fill', blocks: 2, value: 0 }, { type: 'crc' }] });
    let headerBlocks = -1;
    const gen = decodeSparse(splitSource(img), { onHeader: (h) => (headerBlocks = h.totalBlocks) });
    let r = await gen.next();
    assert.equal(headerBlocks, 2);
    while (!r.done) r = await gen.next();
    assert.equal(r.value.inputBytes, img.byteLength);
    assert.equal(r.value.crc32, crc32(Buffer.alloc(2 * BS)));
  });

  describe('rejects hostile input with a clear SparseFormatError', () => {
    it('truncated at every possible length', async () => {
      const img = buildSparse({
        chunks: [
          { type: 'raw', data: pseudoRandom(8, 1) },
          { type: 'fill', blocks: 1, value: 5 },
          { type: 'crc' },
        ],
        blockSize: 8,
      });
      for (let n = 0; n < img.byteLength; n++) {
        await rejects(img.subarray(0, n), /truncated|empty/);
      }
    });
    it('bad magic, version, header sizes and block size', async () => {
      await rejects(buildSparse({ ...sample, magic: 0x12345678 }), /not an Android sparse image/);
      await rejects(buildSparse({ ...sample, major: 2 }), /version 2/);
      await rejects(buildSparse({ ...sample, fileHeaderSize: 20 }), /file header size 20/);
      await rejects(buildSparse({ ...sample, chunkHeaderSize: 8 }), /chunk header size 8/);
      await rejects(buildSparse({ chunks: [], blockSize: 4094 }), /block size 4094/);
      await rejects(buildSparse({ chunks: [], blockSize: 0 }), /block size 0/);
    });
    it('chunk sizes that do not add up', async () => {
      await rejects(
        buildSparse({ chunks: [{ type: 'raw', data: pseudoRandom(BS, 1), blocks: 2 }] }),
        /RAW chunk of 2 blocks carries 4096/,
      );
      await rejects(
        buildSparse({ chunks: [{ type: 'fill', blocks: 1, value: 1, totalSize: 20 }] }),
        /FILL chunk/,
      );
      await rejects(
        buildSparse({ chunks: [{ type: 'skip', blocks: 1, data: new Uint8Array(4) }] }),
        /DONT_CARE chunk carries 4/,
      );
      await rejects(
        buildSparse({ chunks: [{ type: 'skip', blocks: 1, totalSize: 4 }] }),
        /smaller than the chunk header/,
      );
      await rejects(buildSparse({ chunks: [{ type: 'crc', blocks: 3 }] }), /CRC32 chunk claims 3 blocks/);
      await rejects(
        buildSparse({ chunks: [{ type: 'unknown', code: 0xcac9 }] }),
        /unknown chunk type 0xcac9/,
      );
    });
    it('huge chunk_sz and chunks past total_blks, before yielding anything out of range', async () => {
      const huge = buildSparse({
        totalBlocks: 4,
        chunks: [{ type: 'raw', data: new Uint8Array(0), blocks: 0xffffffff, totalSize: 12 }],
      });
      await rejects(huge, /4294967295 blocks starting at block 0 run past the image's 4 blocks/);
      const past = buildSparse({
        totalBlocks: 3,
        chunks: [
          { type: 'fill', blocks: 2, value: 1 },
          { type: 'skip', blocks: 2 },
        ],
      });
      const seen: SparseOp[] = [];
      await assert.rejects(async () => {
        for await (const op of decodeSparse(splitSource(past))) seen.push(op);
      }, /run past/);
      assert.ok(seen.every((o) => o.offset + (o.kind === 'data' ? o.bytes.byteLength : o.length) <= 3 * BS));
    });
    it('wrong counts: total_blks, total_chunks, trailing bytes', async () => {
      await rejects(buildSparse({ ...sample, totalBlocks: 9 }), /cover 8 blocks but the header declares 9/);
      await rejects(buildSparse({ ...sample, totalChunks: 7 }), /truncated in the header of chunk 6 of 7/);
      await rejects(
        buildSparse({ ...sample, totalChunks: 5 }),
        /unexpected bytes after the last of 5 chunks/,
      );
    });
    it('CRC mismatch', async () => {
      const bad = buildSparse({
        chunks: [
          { type: 'raw', data: pseudoRandom(BS, 3) },
          { type: 'crc', value: 0xdeadbeef },
        ],
      });
      const err = await rejects(bad, /CRC32 mismatch.*0xdeadbeef/);
      assert.deepEqual(err.detail, { inputOffset: 28 + 12 + BS, chunk: 1 });
      assert.equal(err.code, 'bad_sparse_image');
    });
    it('image checksum, when asked to verify it', async () => {
      const img = buildSparse({ chunks: [{ type: 'fill', blocks: 1, value: 1 }], imageChecksum: 1 });
      await assert.rejects(async () => {
        for await (const _ of decodeSparse(splitSource(img), { verifyImageChecksum: true })) {
        }
      }, /image checksum mismatch/);
      assert.equal((await ops(img)).length, 1);
    });
    it('stops when aborted', async () => {
      const ac = new AbortController();
      ac.abort(new Error('stop'));
      await assert.rejects(async () => {
        for await (const _ of decodeSparse(splitSource(buildSparse(sample)), { signal: ac.signal })) {
        }
      }, /stop/);
    });
  });
});
