import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, describe, it } from 'node:test';
import { ensureFreeSpace, writeFileAtomic } from '../../../main/common/atomic-write.js';
import { FlashlineError } from '../../../main/common/errors.js';

const dirs: string[] = [];
after(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});
async function tempDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'flashline-atomic-'));
  dirs.push(d);
  return d;
}

describe('writeFileAtomic', () => {
  it('writes strings, bytes and streams, leaving no temp files', async () => {
    const dir = await tempDir();
    await writeFileAtomic(join(dir, 'a.txt'), 'hello');
    await writeFileAtomic(join(dir, 'b.bin'), new Uint8Array([1, 2, 3]));
    await writeFileAtomic(join(dir, 'c.bin'), Readable.from([Buffer.from('ab'), Buffer.from('cd')]));
    assert.equal(await readFile(join(dir, 'a.txt'), 'utf8'), 'hello');
    assert.deepEqual([...(await readFile(join(dir, 'b.bin')))], [1, 2, 3]);
    assert.equal(await readFile(join(dir, 'c.bin'), 'utf8'), 'abcd');
    assert.deepEqual((await readdir(dir)).sort(), ['a.txt', 'b.bin', 'c.bin']);
  });

  it('keeps the old file whole when the source fails midway', async () => {
    const dir = await tempDir();
    const path = join(dir, 'state.json');
    await writeFile(path, 'old');
    async function* failing() {
      yield Buffer.from('new-part');
      throw new Error('source broke');
    }
    await assert.rejects(writeFileAtomic(path, failing()), /source broke/);
    assert.equal(await readFile(path, 'utf8'), 'old');
    assert.deepEqual(await readdir(dir), ['state.json']);
  });

  it('refuses with a clear error when the disk cannot hold the file', async () => {
    const dir = await tempDir();
    await assert.rejects(ensureFreeSpace(dir, Number.MAX_SAFE_INTEGER), (err: unknown) => {
      assert.ok(err instanceof FlashlineError);
      assert.equal(err.code, 'insufficient_disk_space');
      assert.match(err.message, /Not enough free disk space/);
      return true;
    });
  });
});
