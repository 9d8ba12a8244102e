/**
 * Property-based tests (fast-check) over the manifest parser and the container reader: valid manifests
 * round-trip through canonical bytes; arbitrary bytes and arbitrary mutations of a valid package are refused
 * with a 2x FlashlineError, never a crash, a hang or a released damaged byte.
 */
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { FlashlineError } from '../../../main/common/errors.js';
import { canonicalJson, jsonDepth } from '../../../main/package/canonical-json.js';
import { openPackage, PKG, verifyPackage } from '../../../main/package/index.js';
import { manifestBytes, parseManifest, validateManifest } from '../../../main/package/manifest.js';
import {
  baseManifest,
  buildEntries,
  bytes,
  describeImage,
  drainImage,
  type Fixture,
  makeFixture,
  writeRawTar,
} from './helpers.js';

const partition = fc.stringMatching(/^[a-z_][a-z0-9_-]{0,15}$/);
const label = fc.stringMatching(/^[a-zA-Z0-9. -]{1,20}$/).filter((s) => s.trim().length > 0);
const imageArb = fc.record({
  partition,
  size: fc.nat({ max: 2 ** 40 }),
  sha256: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
  blockSize: fc.constantFrom(4096, 65536, 1 << 20),
  blocksSha256: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
  slotted: fc.boolean(),
  sparse: fc.boolean(),
});
const manifestArb = fc
  .record({
    images: fc.uniqueArray(imageArb, { minLength: 1, maxLength: 5, selector: (i) => i.partition }),
    version: label,
    rollbackIndex: fc.nat(),
    products: fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9._-]{0,10}$/), {
      minLength: 1,
      maxLength: 3,
    }),
  })
  .map(({ images, ...rest }) => baseManifest(images, rest));

describe('manifest parser properties', () => {
  it('round-trips every valid manifest through canonical bytes', () => {
    fc.assert(
      fc.property(manifestArb, (raw) => {
        const m = validateManifest(raw);
        const b = manifestBytes(m);
        assert.deepEqual(parseManifest(b), m);
        assert.equal(canonicalJson(JSON.parse(b.toString())), b.toString());
      }),
      { numRuns: 200, seed: 0x5eed1 },
    );
  });

  it('refuses arbitrary bytes with a 21, never another kind of error', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 2000 }),
          fc.json().map((s) => new TextEncoder().encode(s)),
        ),
        (b) => {
          try {
            parseManifest(b);
            assert.fail('accepted random bytes');
          } catch (err) {
            assert.ok(err instanceof FlashlineError, String(err));
            assert.equal(err.code, PKG.malformed);
          }
        },
      ),
      { numRuns: 300, seed: 0x5eed2 },
    );
  });

  it('refuses any single-byte change of a canonical manifest unless it is still canonical and valid', () => {
    fc.assert(
      fc.property(manifestArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (raw, pos, x) => {
        const b = Buffer.from(manifestBytes(validateManifest(raw)));
        const i = pos % b.length;
        b[i]! ^= x;
        try {
          const m = parseManifest(b);
          // Accepted only if the change produced another valid canonical manifest (its signature would differ).
          assert.equal(manifestBytes(m).toString('latin1'), b.toString('latin1'));
        } catch (err) {
          assert.ok(err instanceof FlashlineError && err.code === PKG.malformed, String(err));
        }
      }),
      { numRuns: 300, seed: 0x5eed2 },
    );
  });

  it('measures nesting depth outside strings only', () => {
    fc.assert(
      fc.property(fc.nat({ max: 50 }), fc.string(), (d, s) => {
        const text = `${'['.repeat(d)}${JSON.stringify(s)}${']'.repeat(d)}`;
        assert.equal(jsonDepth(text), d);
      }),
      { seed: 0x5eed4 },
    );
  });
});

describe('container reader properties', () => {
  let fx: Fixture;
  let valid: Buffer;
  const img = bytes(2 * 4096 + 17, 5);
  before(async () => {
    fx = await makeFixture();
    const p = join(fx.dir, 'valid.flp');
    await writeRawTar(p, buildEntries([fx.key], { boot: img }).entries);
    valid = readFileSync(p);
    assert.equal(describeImage('boot', img).image.size, img.length);
  });
  after(() => fx.cleanup());

  it('refuses every mutation of a valid package with a 2x code and releases only true bytes', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ pos: fc.nat(), xor: fc.integer({ min: 1, max: 255 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.option(fc.nat(), { nil: undefined }),
        async (flips, cut) => {
          const b = Buffer.from(valid);
          for (const f of flips) b[f.pos % b.length]! ^= f.xor;
          const data = cut === undefined ? b : b.subarray(0, cut % b.length);
          const p = join(fx.dir, `m${n++ % 4}.flp`);
          writeFileSync(p, data);
          const r = await verifyPackage(p, { trust: fx.trust });
          assert.equal(r.ok, false);
          assert.ok(r.code >= 20 && r.code <= 29, `code ${r.code}`);
          const h = await openPackage(p, { trust: fx.trust }).catch((err: unknown) => {
            assert.ok(err instanceof FlashlineError, String(err));
            return undefined;
          });
          if (h) {
            const { received } = await drainImage(h.openImage('boot'));
            assert.ok(received.length < img.length);
            assert.deepEqual(received, img.subarray(0, received.length));
          }
        },
      ),
      { numRuns: 150, seed: 0x5eed3 },
    );
  });
});
