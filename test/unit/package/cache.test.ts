import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlashlineError } from '../../../main/common/errors.js';
import { importPackage, PKG } from '../../../main/package/index.js';
import { buildEntries, bytes, type Fixture, makeFixture, writeRawTar } from './helpers.js';

describe('package cache import', () => {
  let fx: Fixture;
  before(async () => {
    fx = await makeFixture();
  });
  after(() => fx.cleanup());

  it('copies a verified package in under its manifest hash, once', async () => {
    const p = join(fx.dir, 'good.flp');
    await writeRawTar(p, buildEntries([fx.key], { boot: bytes(9000, 4) }).entries);
    const dir = join(fx.dir, 'cache');
    const r = await importPackage(p, { trust: fx.trust, dir });
    assert.equal(r.copied, true);
    assert.equal(r.path, join(dir, `${r.manifestSha256}.flp`));
    assert.deepEqual(readFileSync(r.path), readFileSync(p));
    assert.equal((await importPackage(p, { trust: fx.trust, dir })).copied, false);
    assert.deepEqual(readdirSync(dir), [`${r.manifestSha256}.flp`], 'no temp files left behind');
  });

  it('refuses a bad package and leaves the cache untouched', async () => {
    const p = join(fx.dir, 'bad.flp');
    const b = buildEntries([fx.key], { boot: bytes(9000, 4) });
    await writeRawTar(
      p,
      b.entries.map((e) => (e.name === 'images/boot.img' ? { ...e, data: bytes(9000, 5) } : e)),
    );
    const dir = join(fx.dir, 'cache2');
    await assert.rejects(importPackage(p, { trust: fx.trust, dir }), (err: unknown) => {
      assert.ok(err instanceof FlashlineError && err.code === PKG.imageMismatch);
      return true;
    });
    assert.throws(() => readdirSync(dir));
  });
});
