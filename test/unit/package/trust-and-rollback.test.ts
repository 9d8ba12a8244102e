import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlashlineError } from '../../../main/common/errors.js';
import { VIRTUAL_PRODUCT_ID } from '../../../main/common/products.js';
import {
  createDemoPackage,
  DEMO_SIGNING_KEY_PATH,
  defaultTrustDirs,
  generateKeyPair,
  loadSigningPrivateKey,
  loadStationPublicKey,
  loadTrustStore,
  openPackage,
  PKG,
  StationRollbackStore,
  verifyPackage,
  writeKeyPair,
} from '../../../main/package/index.js';
import {
  buildEntries,
  bytes,
  drainImage,
  type Fixture,
  makeFixture,
  PRODUCT,
  writeRawTar,
} from './helpers.js';

describe('keys', () => {
  let fx: Fixture;
  before(async () => {
    fx = await makeFixture();
  });
  after(() => fx.cleanup());

  it('writes the private key with mode 0600 and derives the key id from the key', async () => {
    const pair = generateKeyPair();
    const files = await writeKeyPair(join(fx.dir, 'k'), pair);
    assert.equal(statSync(files.key).mode & 0o777, 0o600);
    assert.equal((await loadSigningPrivateKey(files.key)).keyId, pair.keyId);
    const forged = JSON.parse(readFileSync(files.pub, 'utf8')) as Record<string, unknown>;
    forged.keyId = fx.key.keyId;
    writeFileSync(join(fx.dir, 'forged.pub'), JSON.stringify(forged));
    const d = join(fx.dir, 'forged-trust');
    mkdirSync(d);
    writeFileSync(join(d, 'forged.pub'), JSON.stringify(forged));
    await assert.rejects(loadTrustStore({ dirs: [d] }), /key id does not match/);
  });

  it('refuses a signing key where a station key is expected, naming both types', async () => {
    await assert.rejects(loadStationPublicKey(join(fx.dir, 'release.pub')), (err: unknown) => {
      assert.ok(err instanceof FlashlineError);
      assert.match(err.message, /expected a station public key/);
      return true;
    });
  });
});

describe('trust store', () => {
  let fx: Fixture;
  before(async () => {
    fx = await makeFixture();
  });
  after(() => fx.cleanup());

  it('lets a directory raise the threshold but not lower it, and unions revocations', async () => {
    const a = join(fx.dir, 'a');
    const b = join(fx.dir, 'b');
    mkdirSync(a);
    mkdirSync(b);
    writeFileSync(join(a, 'trust.json'), JSON.stringify({ threshold: 2 }));
    writeFileSync(join(b, 'trust.json'), JSON.stringify({ threshold: 1 }));
    writeFileSync(join(b, 'revoked.json'), JSON.stringify({ revoked: ['0123456789abcdef'] }));
    const t = await loadTrustStore({ dirs: [a, b, join(fx.dir, 'missing')] });
    assert.equal(t.threshold, 2);
    assert.ok(t.revoked.has('0123456789abcdef'));
  });

  it('refuses a damaged trust file with a message naming it', async () => {
    const d = join(fx.dir, 'bad');
    mkdirSync(d);
    writeFileSync(join(d, 'revoked.json'), '{"revoked": "all"}');
    await assert.rejects(loadTrustStore({ dirs: [d] }), /revoked\.json is invalid/);
  });

  it('ignores a key outside its validity window', async () => {
    const d = join(fx.dir, 'old');
    const pair = generateKeyPair({ products: [PRODUCT], notAfter: new Date('2026-06-01T00:00:00Z') });
    await writeKeyPair(join(d, 'old'), pair);
    const key = await loadSigningPrivateKey(join(d, 'old.key'));
    const p = join(fx.dir, 'old.flp');
    await writeRawTar(p, buildEntries([key], { boot: bytes(100, 1) }).entries);
    const trust = await loadTrustStore({ dirs: [d] });
    assert.equal((await verifyPackage(p, { trust, now: new Date('2026-05-01T00:00:00Z') })).code, 0);
    const late = await verifyPackage(p, { trust, now: new Date('2026-07-01T00:00:00Z') });
    assert.equal(late.code, PKG.untrustedSigner);
    assert.match(late.detail, /expired on 2026-06-01/);
  });

  it('meets a threshold of two with two distinct trusted keys', async () => {
    const pair = generateKeyPair({ products: [PRODUCT] });
    await writeKeyPair(join(fx.trustDir, 'second'), pair);
    const second = await loadSigningPrivateKey(join(fx.trustDir, 'second.key'));
    const trust = { ...(await loadTrustStore({ dirs: [fx.trustDir] })), threshold: 2 };
    const p = join(fx.dir, 'two.flp');
    await writeRawTar(p, buildEntries([fx.key, second], { boot: bytes(100, 1) }).entries);
    const r = await verifyPackage(p, { trust });
    assert.equal(r.code, 0, r.detail);
    assert.equal(r.summary?.signers?.length, 2);
  });
});

describe('station rollback store', () => {
  let fx: Fixture;
  before(async () => {
    fx = await makeFixture();
  });
  after(() => fx.cleanup());

  it('only ever raises the record and persists it', async () => {
    const path = join(fx.dir, 'state', 'rollback.json');
    const s = new StationRollbackStore(path);
    assert.equal(await s.highest('x'), 0);
    await s.record('x', 5);
    await s.record('x', 3);
    await s.record('y', 1);
    assert.equal(await new StationRollbackStore(path).highest('x'), 5);
    assert.deepEqual(JSON.parse(readFileSync(path, 'utf8')), { version: 1, products: { x: 5, y: 1 } });
  });

  it('refuses to work from a damaged record instead of forgetting it', async () => {
    const path = join(fx.dir, 'damaged.json');
    writeFileSync(path, '{"version":1,"products":{"x":"lots"}}');
    await assert.rejects(new StationRollbackStore(path).highest('x'), /damaged/);
  });
});

describe('demo package', () => {
  let fx: Fixture;
  before(async () => {
    fx = await makeFixture();
  });
  after(() => fx.cleanup());

  it('is trusted by the shipped keys for the virtual device only', async () => {
    const image = bytes(70000, 9);
    const p = join(fx.dir, 'demo.flp');
    const { Readable } = await import('node:stream');
    await createDemoPackage({
      outPath: p,
      images: [{ partition: 'system', source: Readable.from([image]), size: image.length }],
      version: 'demo-2',
      rollbackIndex: 2,
    });
    const trust = await loadTrustStore({ dirs: defaultTrustDirs({ FLASHLINE_HOME: join(fx.dir, 'home') }) });
    const ok = await verifyPackage(p, { trust, product: VIRTUAL_PRODUCT_ID });
    assert.equal(ok.code, 0, ok.detail);
    const h = await openPackage(p, { trust });
    assert.deepEqual((await drainImage(h.openImage('system'))).received, image);

    // The same key signing a manifest for a real product is refused by the shipped trust store.
    const demoKey = await loadSigningPrivateKey(DEMO_SIGNING_KEY_PATH);
    const real = join(fx.dir, 'demo-real.flp');
    await writeRawTar(
      real,
      buildEntries([demoKey], { boot: bytes(100, 1) }, { products: [PRODUCT] }).entries,
    );
    const r = await verifyPackage(real, { trust, product: PRODUCT });
    assert.equal(r.code, PKG.untrustedSigner, r.detail);
  });
});
