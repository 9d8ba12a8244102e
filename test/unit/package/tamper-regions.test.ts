/**
 * Tamper with every region of a real (packed, encrypted) package file — each tar header, the manifest, the
 * signatures, the encryption header, each block list, each AEAD chunk, the padding and the archive end —
 * and check that verification refuses it and that openImage never releases a byte that is not the original.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlashlineError } from '../../../main/common/errors.js';
import { ContainerReader } from '../../../main/package/container.js';
import {
  generateKeyPair,
  loadStationPrivateKey,
  loadStationPublicKey,
  openPackage,
  PKG,
  packPackage,
  type StationPrivateKey,
  verifyPackage,
  writeKeyPair,
} from '../../../main/package/index.js';
import { BLOCK, bytes, drainImage, type Fixture, makeFixture, PRODUCT } from './helpers.js';

interface Region {
  readonly name: string;
  readonly start: number;
  readonly length: number;
  readonly codes: readonly number[];
}

const images = { boot: bytes(3 * BLOCK + 333, 11), vendor: bytes(BLOCK, 12) };

async function layout(path: string): Promise<Region[]> {
  const reader = new ContainerReader(path);
  const regions: Region[] = [];
  let end = 0;
  try {
    for (let e = await reader.next(); e; e = await reader.next()) {
      regions.push({
        name: `header of ${e.name}`,
        start: e.headerOffset,
        length: 512,
        codes: [PKG.malformed],
      });
      const dataCodes =
        e.name === 'manifest.json'
          ? [PKG.malformed, PKG.badSignature]
          : e.name === 'signatures.json'
            ? [PKG.malformed, PKG.badSignature, PKG.untrustedSigner]
            : e.name === 'encryption.json'
              ? [PKG.malformed, PKG.cannotDecrypt]
              : [PKG.imageMismatch];
      if (e.name.endsWith('.img')) {
        // One region per AEAD chunk (block + 16-byte tag).
        for (let o = 0, k = 0; o < e.size; o += BLOCK + 16, k++) {
          regions.push({
            name: `${e.name} chunk ${k}`,
            start: e.offset + o,
            length: Math.min(BLOCK + 16, e.size - o),
            codes: dataCodes,
          });
        }
      } else if (e.size > 0) {
        regions.push({ name: e.name, start: e.offset, length: e.size, codes: dataCodes });
      }
      const padded = Math.ceil(e.size / 512) * 512;
      if (padded > e.size)
        regions.push({
          name: `padding of ${e.name}`,
          start: e.offset + e.size,
          length: padded - e.size,
          codes: [PKG.malformed],
        });
      end = e.offset + padded;
      await reader.drain(e);
    }
  } finally {
    reader.close();
  }
  regions.push({ name: 'archive end', start: end, length: 1024, codes: [PKG.malformed] });
  return regions;
}

describe('tampering with every region of an encrypted package', () => {
  let fx: Fixture;
  let path: string;
  let original: Buffer;
  let stationKey: StationPrivateKey;
  let regions: Region[];

  before(async () => {
    fx = await makeFixture();
    await writeKeyPair(join(fx.dir, 'station'), generateKeyPair({ kind: 'station' }));
    await writeKeyPair(join(fx.dir, 'other-station'), generateKeyPair({ kind: 'station' }));
    stationKey = await loadStationPrivateKey(join(fx.dir, 'station.key'));
    for (const [p, d] of Object.entries(images)) writeFileSync(join(fx.dir, `${p}.img`), d);
    path = join(fx.dir, 'enc.flp');
    await packPackage({
      outPath: path,
      products: [PRODUCT],
      version: '3.0',
      rollbackIndex: 3,
      blockSize: BLOCK,
      images: Object.keys(images).map((p) => ({ partition: p, source: join(fx.dir, `${p}.img`) })),
      keys: [fx.key],
      encryptTo: [
        await loadStationPublicKey(join(fx.dir, 'other-station.pub')),
        await loadStationPublicKey(join(fx.dir, 'station.pub')),
      ],
    });
    original = readFileSync(path);
    regions = await layout(path);
  });
  after(() => fx.cleanup());

  it('round-trips: verify accepts it and openImage yields the plaintext', async () => {
    const r = await verifyPackage(path, { trust: fx.trust, decryptionKeys: [stationKey] });
    assert.equal(r.code, 0, r.detail);
    assert.equal(r.summary?.encrypted, true);
    const h = await openPackage(path, { trust: fx.trust, decryptionKeys: [stationKey] });
    for (const [p, d] of Object.entries(images))
      assert.deepEqual((await drainImage(h.openImage(p))).received, d);
    // Twice: openImage re-reads the file each time.
    assert.deepEqual((await drainImage(h.openImage('boot'))).received, images.boot);
    assert.ok(regions.filter((r) => r.name.includes('chunk')).length >= 5);
  });

  it('refuses without a matching station key, with 29', async () => {
    const none = await verifyPackage(path, { trust: fx.trust, decryptionKeys: [] });
    assert.equal(none.code, PKG.cannotDecrypt, none.detail);
    assert.match(none.detail, /no station key is installed/);
    await writeKeyPair(join(fx.dir, 'third'), generateKeyPair({ kind: 'station' }));
    const r = await verifyPackage(path, {
      trust: fx.trust,
      decryptionKeys: [await loadStationPrivateKey(join(fx.dir, 'third.key'))],
    });
    assert.equal(r.code, PKG.cannotDecrypt);
    assert.match(r.detail, /none of which this station holds/);
  });

  it('refuses a flipped byte at the start, middle and end of every region', async () => {
    assert.ok(regions.length >= 20, `found ${regions.length} regions`);
    for (const region of regions) {
      for (const at of new Set([
        region.start,
        region.start + (region.length >> 1),
        region.start + region.length - 1,
      ])) {
        const bad = Buffer.from(original);
        bad[at]! ^= 0x40;
        const p = join(fx.dir, 'tampered.flp');
        writeFileSync(p, bad);
        const options = { trust: fx.trust, decryptionKeys: [stationKey] };
        const r = await verifyPackage(p, options);
        assert.equal(r.ok, false, `${region.name} @${at} accepted`);
        assert.ok(region.codes.includes(r.code), `${region.name} @${at}: got ${r.code} ${r.detail}`);
        const h = await openPackage(p, options).catch((err: unknown) => {
          assert.ok(err instanceof FlashlineError && region.codes.includes(err.code as number), String(err));
          return undefined;
        });
        if (!h) continue;
        let refused = false;
        for (const [name, plain] of Object.entries(images)) {
          const { received, error } = await drainImage(h.openImage(name));
          assert.deepEqual(
            received,
            plain.subarray(0, received.length),
            `${region.name}: released a bad byte`,
          );
          if (error) {
            refused = true;
            assert.ok(error instanceof FlashlineError && error.code === PKG.imageMismatch, String(error));
            assert.ok(received.length < plain.length);
          }
        }
        assert.ok(refused, `${region.name} @${at}: openImage released everything`);
      }
    }
  });

  it('refuses a truncated file at every region boundary', async () => {
    for (const region of regions) {
      const p = join(fx.dir, 'truncated.flp');
      writeFileSync(p, original.subarray(0, region.start + (region.length >> 1)));
      const r = await verifyPackage(p, { trust: fx.trust, decryptionKeys: [stationKey] });
      assert.equal(r.ok, false, `${region.name}`);
      assert.ok(r.code >= 20 && r.code <= 29);
    }
  });
});
