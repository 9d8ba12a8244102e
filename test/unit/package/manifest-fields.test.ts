/**
 * Manifest format 1.1 fields: image `kind` (partition / logical / super-layout) and `deviceRequirements`.
 * Older (1.0) manifests stay valid; the rules between kinds are enforced by the schema.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from '../../../main/package/canonical-json.js';
import {
  FORMAT_VERSION,
  imageKind,
  type ManifestImage,
  parseManifest,
  validateManifest,
} from '../../../main/package/manifest.js';
import { baseManifest, bytes, describeImage, refusal } from './helpers.js';

const img = (partition: string, over: Partial<ManifestImage> = {}): ManifestImage => ({
  ...describeImage(partition, bytes(100, partition.length)).image,
  ...over,
});

describe('manifest format 1.1 fields', () => {
  it('writes format 1.1 and still reads a 1.0 manifest without the new fields', () => {
    assert.equal(FORMAT_VERSION, '1.2');
    const old = baseManifest([img('boot')]);
    const parsed = parseManifest(Buffer.from(canonicalJson(old)));
    assert.equal(parsed.formatVersion, '1.0');
    assert.equal(imageKind(parsed.images[0]!), 'partition');
    assert.equal(parsed.deviceRequirements, undefined);
  });

  it('accepts a super layout, logical images and device requirements', () => {
    const m = validateManifest(
      baseManifest(
        [
          img('boot'),
          img('super', { kind: 'super-layout', slotted: false }),
          img('system', { kind: 'logical', sparse: true }),
          img('vendor', { kind: 'logical' }),
        ],
        {
          formatVersion: '1.1',
          deviceRequirements: { 'version-bootloader': ['1.0', '1.1'], product: ['acme*'] },
        },
      ),
    );
    assert.deepEqual(
      m.images.map((i) => imageKind(i)),
      ['partition', 'super-layout', 'logical', 'logical'],
    );
    assert.deepEqual(m.deviceRequirements?.['version-bootloader'], ['1.0', '1.1']);
    // Round trip through canonical bytes.
    assert.deepEqual(parseManifest(Buffer.from(canonicalJson(m))), m);
  });

  it('refuses two super layouts, a slotted one, and logical images without one', () => {
    const two = refusal(
      baseManifest([
        img('super', { kind: 'super-layout', slotted: false }),
        img('super2', { kind: 'super-layout', slotted: false }),
      ]),
    );
    assert.match(two, /at most one super-layout image/);
    assert.match(refusal(baseManifest([img('super', { kind: 'super-layout' })])), /cannot be slotted/);
    assert.match(
      refusal(baseManifest([img('system', { kind: 'logical' })])),
      /logical image system needs a super-layout image/,
    );
    assert.match(refusal(baseManifest([img('boot', { kind: 'dynamic' as never })])), /images\.0\.kind/);
  });

  it('refuses requirement names that are not fastboot variables and empty value lists', () => {
    for (const name of ['Version-Bootloader', '__proto__', 'a b', '', 'x'.repeat(65)]) {
      const r = refusal(baseManifest([img('boot')], { deviceRequirements: { [name]: ['1'] } }));
      assert.match(r, /deviceRequirements/, name);
    }
    assert.match(
      refusal(baseManifest([img('boot')], { deviceRequirements: { product: [] } })),
      /deviceRequirements/,
    );
    assert.match(
      refusal(baseManifest([img('boot')], { deviceRequirements: { product: ['bad\nvalue'] } })),
      /deviceRequirements/,
    );
  });
});
