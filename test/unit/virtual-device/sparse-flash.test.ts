import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { crc32 } from '../../../main/protocol/fastboot/sparse/crc32.js';
import {
  CHUNK_TYPE,
  encodeChunkHeader,
  encodeSparseHeader,
} from '../../../main/protocol/fastboot/sparse/format.js';
import { KiB, link, startSmallDevice } from './helpers/fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const BS = 4096;
const le32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n >>> 0);
  return b;
};

/** RAW(2 blocks) FILL(3 blocks) DONT_CARE(2 blocks) RAW(1 block) CRC32, and the expanded image it means. */
function sampleSparse(corruptCrc = false): { sparse: Buffer; expanded: Buffer } {
  const raw1 = randomBytes(2 * BS);
  const fill = Buffer.alloc(3 * BS, Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  const skip = Buffer.alloc(2 * BS);
  const raw2 = randomBytes(BS);
  const expanded = Buffer.concat([raw1, fill, skip, raw2]);
  const crc = crc32(expanded) ^ (corruptCrc ? 1 : 0);
  const sparse = Buffer.concat([
    encodeSparseHeader({ blockSize: BS, totalBlocks: 8, totalChunks: 5 }),
    encodeChunkHeader(CHUNK_TYPE.raw, 2, 2 * BS),
    raw1,
    encodeChunkHeader(CHUNK_TYPE.fill, 3, 4, Buffer.from([0xde, 0xad, 0xbe, 0xef])),
    encodeChunkHeader(CHUNK_TYPE.dontCare, 2, 0),
    encodeChunkHeader(CHUNK_TYPE.raw, 1, BS),
    raw2,
    encodeChunkHeader(CHUNK_TYPE.crc32, 0, 4, le32(crc)),
  ]);
  return { sparse, expanded };
}

test('flash of an Android sparse image (RAW, FILL, DONT_CARE, CRC32) writes the expanded content', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  const { sparse, expanded } = sampleSparse();
  await c.okay('erase:system_b');
  await c.flashBytes('system_b', sparse);
  assert.equal(await c.sha256('system_b'), sha(expanded));
  assert.equal(vd.device.contentSize('system_b'), 8 * BS);
  assert.equal(vd.device.bootControl.slots.b.unbootable, false);
});

test('DONT_CARE keeps what was there, so a split image can arrive in several pieces', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  const first = randomBytes(4 * BS);
  const second = randomBytes(4 * BS);
  const piece = (data: Buffer, at: 'front' | 'back') =>
    Buffer.concat([
      encodeSparseHeader({ blockSize: BS, totalBlocks: 8, totalChunks: 2 }),
      ...(at === 'front'
        ? [encodeChunkHeader(CHUNK_TYPE.raw, 4, 4 * BS), data, encodeChunkHeader(CHUNK_TYPE.dontCare, 4, 0)]
        : [encodeChunkHeader(CHUNK_TYPE.dontCare, 4, 0), encodeChunkHeader(CHUNK_TYPE.raw, 4, 4 * BS), data]),
    ]);
  await c.flashBytes('system_a', piece(first, 'front'));
  await c.flashBytes('system_a', piece(second, 'back'));
  assert.equal(await c.sha256('system_a'), sha(Buffer.concat([first, second])));
});

test('a sparse image with a wrong CRC32 or a truncated body is refused and the slot stays unbootable', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  const bad = sampleSparse(true).sparse;
  assert.equal((await c.download(bad, bad.byteLength)).final.type, 'OKAY');
  const r = await c.command('flash:system_b');
  assert.equal(r.final.type, 'FAIL');
  assert.match('message' in r.final ? r.final.message : '', /sparse|crc/i);
  assert.equal(vd.device.bootControl.slots.b.unbootable, true);
  const cut = sampleSparse().sparse.subarray(0, 5000);
  assert.equal((await c.download(cut, cut.byteLength)).final.type, 'OKAY');
  assert.equal((await c.command('flash:misc')).final.type, 'FAIL');
  // A sparse image that expands beyond the partition is refused before writing.
  const huge = encodeSparseHeader({ blockSize: BS, totalBlocks: (64 * KiB) / BS + 1, totalChunks: 0 });
  assert.equal((await c.download(huge, huge.byteLength)).final.type, 'OKAY');
  const r2 = await c.command('flash:misc');
  assert.match('message' in r2.final ? r2.final.message : '', /holds/);
});
