import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { readFileChunks } from '../../../main/common/file-chunks.js';

const KiB = 1024;

async function withFile(bytes: Buffer, body: (path: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'flashline-chunks-'));
  try {
    const path = join(dir, 'f.bin');
    await writeFile(path, bytes);
    await body(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('readFileChunks: a file through two reused buffers', () => {
  it('yields every byte in order, in chunks of chunkSize (copied before the next pull)', async () => {
    const data = randomBytes(10 * 64 * KiB + 123);
    await withFile(data, async (path) => {
      const got: Buffer[] = [];
      for await (const c of readFileChunks(path, { chunkSize: 64 * KiB })) got.push(Buffer.from(c));
      assert.equal(got.length, 11);
      assert.ok(got.slice(0, 10).every((c) => c.byteLength === 64 * KiB));
      assert.ok(Buffer.concat(got).equals(data));
    });
  });

  it('reuses its buffers: chunk n+2 lives in the memory of chunk n (no allocation per chunk)', async () => {
    await withFile(randomBytes(4 * 16 * KiB), async (path) => {
      const buffers: ArrayBufferLike[] = [];
      for await (const c of readFileChunks(path, { chunkSize: 16 * KiB })) buffers.push(c.buffer);
      assert.equal(buffers[0], buffers[2]);
      assert.equal(buffers[1], buffers[3]);
      assert.notEqual(buffers[0], buffers[1]);
    });
  });

  it('reads a range (start, length)', async () => {
    const data = randomBytes(100 * KiB);
    await withFile(data, async (path) => {
      const got: Buffer[] = [];
      for await (const c of readFileChunks(path, { start: 1000, length: 50 * KiB, chunkSize: 8 * KiB }))
        got.push(Buffer.from(c));
      assert.ok(Buffer.concat(got).equals(data.subarray(1000, 1000 + 50 * KiB)));
    });
  });

  it('a file shorter than the range asked for is an error naming where it ended', async () => {
    await withFile(randomBytes(10 * KiB), async (path) => {
      await assert.rejects(async () => {
        for await (const _ of readFileChunks(path, { length: 20 * KiB, chunkSize: 4 * KiB })) {
          // drain
        }
      }, /ended at byte 10240, before byte 20480/);
    });
  });
});
