/**
 * The verification pool (main/package/hash-pool.ts) and the in-order release on top of it
 * (verified-batches.ts): a worker that dies mid-task, a bad block in the middle while later batches are
 * already read and hashing, and a stream cancelled or abandoned part-way. Real worker threads throughout.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { FlashlineError } from '../../../main/common/errors.js';
import { PKG } from '../../../main/package/codes.js';
import { HashPool } from '../../../main/package/hash-pool.js';
import type { ManifestImage } from '../../../main/package/manifest.js';
import {
  type BatchReader,
  batchBytes,
  verifiedBatches,
  verifyFileRange,
} from '../../../main/package/verified-batches.js';

const MiB = 1024 * 1024;

function blockList(image: Buffer, blockSize: number): Buffer {
  const parts: Buffer[] = [];
  for (let at = 0; at < image.byteLength; at += blockSize)
    parts.push(
      createHash('sha256')
        .update(image.subarray(at, at + blockSize))
        .digest(),
    );
  return Buffer.concat(parts);
}

function imageOf(size: number, blockSize: number): { image: Buffer; img: ManifestImage; list: Buffer } {
  const image = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) image.writeUInt32LE((i * 2654435761) >>> 0, i);
  const list = blockList(image, blockSize);
  const img = {
    partition: 'system',
    size,
    blockSize,
    sha256: createHash('sha256').update(image).digest('hex'),
    blocksSha256: createHash('sha256').update(list).digest('hex'),
    slotted: false,
    sparse: false,
  } as ManifestImage;
  return { image, img, list };
}

/** Serves `data` batch by batch and records how far it was read and whether it was closed. */
function memoryReader(data: Buffer): BatchReader & { served: number; closed: boolean } {
  let pos = 0;
  const r = {
    served: 0,
    closed: false,
    async next(into: Buffer) {
      const n = data.copy(into, 0, pos, Math.min(pos + into.byteLength, data.byteLength));
      pos += n;
      if (n > 0) r.served++;
      return n;
    },
    async close() {
      r.closed = true;
    },
  };
  return r;
}

/** One task's slot in an arena leased from `pool`, holding `data`, with the right hashes. */
function task(pool: HashPool, data: Buffer, blockSize: number) {
  const arena = pool.lease(data.byteLength);
  const slot = Buffer.from(arena.memory);
  data.copy(slot);
  const t = {
    arena: arena.id,
    offset: 0,
    length: data.byteLength,
    blockSize,
    expected: blockList(data, blockSize),
  };
  return { ...t, slot };
}

describe('hash pool', () => {
  const pool = new HashPool(2);
  after(() => pool.close());

  it('finds the first bad block of a batch', async () => {
    const { image } = imageOf(8 * 4096, 4096);
    const { slot, ...t } = task(pool, image, 4096);
    assert.deepEqual(await pool.check(t), { bad: -1, got: t.length });
    slot[5 * 4096 + 17]! ^= 1;
    assert.equal((await pool.check(t)).bad, 5);
  });

  it('reads a batch from the file itself, and says when the file ends early or cannot be read', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashline-hash-pool-'));
    const { image } = imageOf(2 * MiB, 64 * 1024);
    writeFileSync(join(dir, 'image'), image);
    const handle = await open(join(dir, 'image'), 'r');
    try {
      const { slot, ...slotTask } = task(pool, image, 64 * 1024);
      const t = { ...slotTask, read: { fd: handle.fd, position: 0 } };
      slot.fill(0); // the worker fills the slot
      assert.deepEqual(await pool.check(t), { bad: -1, got: 2 * MiB });
      const short = await pool.check({ ...t, read: { fd: handle.fd, position: MiB } });
      assert.equal(short.got, MiB);
      await assert.rejects(pool.check({ ...t, read: { fd: 1 << 30, position: 0 } }), (err: unknown) => {
        assert.ok(err instanceof FlashlineError);
        assert.equal(err.code, PKG.verifyFailed);
        assert.match(err.message, /Reading the package file failed/);
        return true;
      });
    } finally {
      await handle.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a task again on a fresh worker when its worker is killed mid-task', async () => {
    const one = new HashPool(1);
    try {
      const { image } = imageOf(32 * MiB, MiB);
      const { slot: _s, ...t } = task(one, image, MiB);
      const result = one.check(t);
      const first = one.workers()[0];
      assert.ok(first, 'the task started a worker');
      await first.terminate(); // hashing 32 MiB takes far longer than this
      assert.equal((await result).bad, -1);
      assert.notEqual(one.workers()[0], first, 'a replacement worker finished the task');
    } finally {
      await one.close();
    }
  });

  it('refuses a task that kills its worker twice (20) and keeps serving the others', async () => {
    const one = new HashPool(1);
    try {
      const { image } = imageOf(4 * MiB, MiB);
      const { slot: _a, ...good4 } = task(one, image, MiB);
      const { slot: _b, ...short } = task(one, image.subarray(0, MiB), MiB);
      const good = one.check(good4);
      // A task longer than its arena throws inside the worker: an uncaught crash, every time.
      const poison = one.check({ ...short, length: 4 * MiB });
      const later = one.check(good4);
      await assert.rejects(poison, (err: unknown) => {
        assert.ok(err instanceof FlashlineError);
        assert.equal(err.code, PKG.verifyFailed);
        assert.match(err.message, /hashing worker thread .*twice/);
        return true;
      });
      assert.equal((await good).bad, -1);
      assert.equal((await later).bad, -1);
      assert.equal(one.pending(), 0);
    } finally {
      await one.close();
    }
  });
});

describe('verified batches', () => {
  const pool = new HashPool(2);
  after(() => pool.close());

  it('releases everything in order, each batch once', async () => {
    const { image, img, list } = imageOf(5 * MiB + 12345, 64 * 1024);
    const parts: Buffer[] = [];
    for await (const b of verifiedBatches(memoryReader(image), img, list, { pool }))
      parts.push(Buffer.from(b));
    assert.ok(parts.length > 1);
    assert.ok(Buffer.concat(parts).equals(image));
  });

  it('stops at a bad block in the middle while later batches are in flight, releasing nothing from it on', async () => {
    const { image, img, list } = imageOf(12 * MiB, MiB);
    const damaged = Buffer.from(image);
    damaged[5 * MiB + 1000]! ^= 0x40;
    const reader = memoryReader(damaged);
    const released: Buffer[] = [];
    let failure: unknown;
    try {
      for await (const b of verifiedBatches(reader, img, list, { pool })) released.push(Buffer.from(b));
    } catch (err) {
      failure = err;
    }
    assert.ok(failure instanceof FlashlineError);
    assert.equal(failure.code, PKG.imageMismatch);
    assert.deepEqual((failure.detail as { block: number }).block, 5);
    assert.ok(Buffer.concat(released).equals(image.subarray(0, 5 * MiB)), 'exactly blocks 0–4');
    assert.ok(reader.served > 6, `batches after the bad one were read and hashing (${reader.served})`);
    assert.ok(reader.closed);
    assert.equal(pool.pending(), 0);
  });

  it('withholds the whole batch that holds a bad block', async () => {
    const { image, img, list } = imageOf(3 * MiB, 4096);
    const damaged = Buffer.from(image);
    const batch = batchBytes(4096);
    damaged[batch + 100 * 4096 + 5]! ^= 1; // block 356: in the second batch (blocks 256–511), not its first
    const released: Buffer[] = [];
    await assert.rejects(async () => {
      for await (const b of verifiedBatches(memoryReader(damaged), img, list, { pool }))
        released.push(Buffer.from(b));
    }, /block 356 /);
    assert.equal(Buffer.concat(released).byteLength, batch);
  });

  it('stops on cancellation and on a consumer that walks away, with nothing left hashing', async () => {
    const { image, img, list } = imageOf(10 * MiB, MiB);
    const ac = new AbortController();
    const reader = memoryReader(image);
    let seen = 0;
    await assert.rejects(async () => {
      for await (const _ of verifiedBatches(reader, img, list, { pool, signal: ac.signal })) {
        seen++;
        ac.abort();
      }
    }, /abort/i);
    assert.equal(seen, 1);
    assert.ok(reader.closed);
    assert.equal(pool.pending(), 0);

    const walker = memoryReader(image);
    for await (const _ of verifiedBatches(walker, img, list, { pool })) break;
    assert.ok(walker.closed);
    assert.equal(pool.pending(), 0);
  });

  it('verifies a file range to nowhere in the workers, reporting the first bad block of several', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashline-hash-pool-'));
    try {
      const { image, img, list } = imageOf(40 * MiB, MiB);
      const file = join(dir, 'image');
      writeFileSync(file, Buffer.concat([Buffer.alloc(512, 7), image]));
      await verifyFileRange(file, 512, img, list, { pool });
      const damaged = Buffer.from(image);
      damaged[35 * MiB + 9]! ^= 1; // in the third 16 MiB range
      damaged[20 * MiB + 9]! ^= 1; // in the second: this one is reported
      writeFileSync(file, Buffer.concat([Buffer.alloc(512, 7), damaged]));
      await assert.rejects(verifyFileRange(file, 512, img, list, { pool }), (err: unknown) => {
        assert.ok(err instanceof FlashlineError);
        assert.equal(err.code, PKG.imageMismatch);
        assert.equal((err.detail as { block: number }).block, 20);
        return true;
      });
      writeFileSync(file, Buffer.concat([Buffer.alloc(512, 7), image.subarray(0, 30 * MiB)]));
      await assert.rejects(verifyFileRange(file, 512, img, list, { pool }), /truncated in the package file/);
      assert.equal(pool.pending(), 0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an image longer or shorter than signed', async () => {
    const { image, img, list } = imageOf(2 * MiB, MiB);
    const drain = async (data: Buffer) => {
      for await (const _ of verifiedBatches(memoryReader(data), img, list, { pool })) void _;
    };
    await assert.rejects(drain(Buffer.concat([image, Buffer.alloc(1)])), /more than 2097152 bytes/);
    await assert.rejects(drain(image.subarray(0, MiB)), /is 1048576 bytes instead of 2097152/);
  });
});
