/** android-info.txt: fastboot's requirement lines → a package's products and deviceRequirements. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { FlashlineError } from '../../../main/common/errors.js';
import { parseAndroidInfo, requirementsForPackage } from '../../../main/package/android-image/index.js';
import { validateManifest } from '../../../main/package/manifest.js';
import { baseManifest, bytes, describeImage } from './helpers.js';

const parse = (text: string) => parseAndroidInfo(Buffer.from(text));
const refusal = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('accepted');
};

describe('android-info.txt', () => {
  it('reads require, bare, reject and require-for-product lines; board means product', () => {
    const info = parse(
      [
        'require board=oriole|raven',
        'require version-bootloader=slider-1.2-9152140',
        'version-baseband = g5123b-97927-220225-B-8286376 ',
        'reject version-bootloader=bad*',
        'require-for-product:oriole version-baseband=g5123b*',
        'require partition-exists=vendor_dlkm',
        '# a comment',
        '',
        'this is not a requirement',
      ].join('\r\n'),
    );
    assert.deepEqual(
      info.requirements.map((r) => [r.name, r.values, r.reject, r.forProduct ?? null]),
      [
        ['product', ['oriole', 'raven'], false, null],
        ['version-bootloader', ['slider-1.2-9152140'], false, null],
        ['version-baseband', ['g5123b-97927-220225-B-8286376'], false, null],
        ['version-bootloader', ['bad*'], true, null],
        ['version-baseband', ['g5123b*'], false, 'oriole'],
        ['partition-exists', ['vendor_dlkm'], false, null],
      ],
    );
    assert.deepEqual(info.unknown, [{ line: 9, text: 'this is not a requirement' }]);
  });

  it('gives products and device requirements; notes what is not enforced', () => {
    const info = parse(
      'require board=oriole\nrequire version-bootloader=1.0|1.1\nrequire version-baseband=b1\nreject version-bootloader=0.9\nrequire partition-exists=vendor\nrequire-for-product:raven version-baseband=r1\nhello\n',
    );
    const r = requirementsForPackage(info);
    assert.deepEqual(r.products, ['oriole']);
    assert.deepEqual(r.deviceRequirements, {
      product: ['oriole'],
      'version-bootloader': ['1.0', '1.1'],
      'version-baseband': ['b1'],
    });
    assert.equal(r.notes.length, 4);
    assert.ok(r.notes.some((n) => /line 7 .*not a requirement/.test(n)));
    assert.ok(r.notes.some((n) => /rejects version-bootloader=0\.9/.test(n)));
    assert.ok(r.notes.some((n) => /applies only to product raven/.test(n)));
  });

  it('honours require-for-product for the chosen product and refuses it for a multi-product package', () => {
    const info = parse('require board=oriole|raven\nrequire-for-product:raven version-baseband=r1\n');
    const raven = requirementsForPackage(info, 'raven');
    assert.deepEqual(raven.products, ['raven']);
    assert.deepEqual(raven.deviceRequirements['version-baseband'], ['r1']);
    assert.match(
      refusal(() => requirementsForPackage(info)),
      /applies only to product raven.*--product/,
    );
    assert.match(
      refusal(() => requirementsForPackage(info, 'bluejay')),
      /not one this image is for/,
    );
  });

  it('refuses what cannot make a package: no product, wildcards, bad ids, contradictions, binary', () => {
    assert.match(
      refusal(() => requirementsForPackage(parse('require version-bootloader=1\n'))),
      /names no product/,
    );
    assert.deepEqual(requirementsForPackage(parse('x=1\n'), 'acme').products, ['acme']);
    assert.match(
      refusal(() => requirementsForPackage(parse('require board=ori*\n'))),
      /--product/,
    );
    assert.deepEqual(requirementsForPackage(parse('require board=ori*\n'), 'oriole').products, ['oriole']);
    assert.match(
      refusal(() => requirementsForPackage(parse('require board=Oriole\n'))),
      /not a Flashline product id/,
    );
    assert.match(
      refusal(() =>
        requirementsForPackage(
          parse('require board=a\nrequire version-bootloader=1\nrequire version-bootloader=2\n'),
        ),
      ),
      /contradict/,
    );
    assert.match(
      refusal(() => parseAndroidInfo(Buffer.from([0x50, 0x4b, 3, 4, 0, 0]))),
      /not plain ASCII/,
    );
    assert.match(
      refusal(() => parseAndroidInfo(Buffer.alloc(70_000, 0x61))),
      /a few lines/,
    );
  });

  it('a value listed twice is one requirement (found by the property below, seed 250304033)', () => {
    const r = requirementsForPackage(parseAndroidInfo(Buffer.from('board =acme|acme')));
    assert.deepEqual(r.products, ['acme']);
    assert.deepEqual(r.deviceRequirements, { product: ['acme'] });
  });

  it('any text: parsed or refused as bad input; what it yields is always a valid manifest', () => {
    const word = fc.constantFrom(
      'require',
      'reject',
      'require-for-product:acme',
      '',
      'board',
      'product',
      '#',
    );
    const name = fc.constantFrom(
      'board',
      'product',
      'version-bootloader',
      'version-baseband',
      'Bad Name',
      'x_y',
      '',
    );
    const value = fc.oneof(fc.constantFrom('acme', 'acme*', '1.0', 'b|c', ' '), fc.string({ maxLength: 12 }));
    const line = fc.oneof(
      fc.tuple(word, name, fc.array(value, { maxLength: 4 })).map(([w, n, v]) => `${w} ${n}=${v.join('|')}`),
      fc.string({ maxLength: 40 }),
    );
    const image = describeImage('boot', bytes(10, 1)).image;
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 8 }),
        fc.option(fc.constantFrom('acme', 'other')),
        (lines, product) => {
          let r: ReturnType<typeof requirementsForPackage>;
          try {
            r = requirementsForPackage(
              parseAndroidInfo(Buffer.from(lines.join('\n'), 'latin1')),
              product ?? undefined,
            );
          } catch (err) {
            assert.ok(err instanceof FlashlineError && err.code === 21, String(err));
            return;
          }
          validateManifest(
            baseManifest([image], { products: [...r.products], deviceRequirements: r.deviceRequirements }),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
