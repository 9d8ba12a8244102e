/**
 * pack --from-android-image, unit level: small hand-built zips and folders. Every refusal is a
 * FlashlineError 21 malformed_package (exit 21 in the CLI) with a reason, and leaves no package file behind.
 */
import assert from 'node:assert/strict';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlashlineError } from '../../../main/common/errors.js';
import { packAndroidImage } from '../../../main/package/android-image/index.js';
import { virtualPhoneLayout } from '../../../main/package/android-image/make.js';
import { openPackage } from '../../../main/package/index.js';
import { encodeSuperEmpty } from '../../../main/protocol/fastboot/super/index.js';
import { basicEntries, sparseHeader, sparseSkipImage, writeFolder, writeZip } from './android-zip.js';
import { type Fixture, makeFixture } from './helpers.js';

let fx: Fixture;
before(async () => {
  fx = await makeFixture();
});
after(() => fx.cleanup());

let n = 0;
const out = () => join(fx.dir, `p${++n}.flp`);

async function refused(input: string): Promise<{ message: string; reason: string }> {
  const outPath = out();
  try {
    await packAndroidImage({ input, outPath, keys: [fx.key] });
  } catch (err) {
    assert.ok(err instanceof FlashlineError, String(err));
    assert.equal(err.code, 21);
    assert.ok(!existsSync(outPath), 'nothing written');
    assert.doesNotMatch(err.message, /\n\s+at /, 'no stack trace');
    return { message: err.message, reason: (err.detail as { reason: string }).reason };
  }
  assert.fail(`${input} was accepted`);
}

describe('pack --from-android-image (unit)', () => {
  it('packs an update zip without super: products, requirements, versions from boot.img, sparse kept', async () => {
    const zip = join(fx.dir, 'plain.zip');
    await writeZip(zip, basicEntries());
    const { plan, pack } = await packAndroidImage({ input: zip, outPath: out(), keys: [fx.key] });
    const m = pack.manifest;
    assert.equal(m.formatVersion, '1.2');
    assert.deepEqual(m.products, ['acme-phone']);
    assert.deepEqual(m.deviceRequirements, { product: ['acme-phone'], 'version-bootloader': ['1.0.0'] });
    assert.equal(m.version, '2.1.0');
    assert.equal(m.expectedVersion, '2.1.0');
    assert.equal(m.rollbackIndex, 202610);
    assert.deepEqual(
      m.images.map((i) => [i.partition, i.kind ?? 'partition', i.sparse, i.slotted]),
      [
        ['boot', 'partition', false, true],
        ['dtbo', 'partition', false, true],
        ['system', 'partition', true, true],
      ],
    );
    assert.ok(plan.notes.some((x) => /Rollback index 202610/.test(x)));
    const pkg = await openPackage(pack.path, { trust: fx.trust, product: 'acme-phone' });
    let bytes = 0;
    for await (const c of pkg.openImage('dtbo')) bytes += (c as Buffer).byteLength;
    assert.equal(bytes, 8192);
  });

  it('reads zip64 entries, an unpacked folder, and a stored update zip inside a factory zip', async () => {
    const z64 = join(fx.dir, 'z64.zip');
    await writeZip(z64, basicEntries(), true);
    assert.equal(
      (await packAndroidImage({ input: z64, outPath: out(), keys: [fx.key] })).pack.manifest.images.length,
      3,
    );
    const dir = join(fx.dir, 'unpacked');
    await writeFolder(dir, basicEntries());
    const fromDir = await packAndroidImage({
      input: dir,
      outPath: out(),
      keys: [fx.key],
      version: '9.9',
      rollbackIndex: 3,
    });
    assert.equal(fromDir.pack.manifest.version, '9.9');
    assert.equal(fromDir.pack.manifest.expectedVersion, '2.1.0', 'the device reports what boot.img says');
    assert.equal(fromDir.pack.manifest.rollbackIndex, 3);
    const inner = join(fx.dir, 'image-acme-1.zip');
    await writeZip(inner, basicEntries());
    const factory = join(fx.dir, 'factory.zip');
    await writeZip(factory, [
      { name: 'acme-1/flash-all.sh', data: Buffer.from('#!/bin/sh\n') },
      { name: 'acme-1/bootloader-acme-1.0.img', data: Buffer.alloc(100) },
      { name: 'acme-1/image-acme-1.zip', data: await fs.readFile(inner), compress: false },
    ]);
    const nested = await packAndroidImage({ input: factory, outPath: out(), keys: [fx.key] });
    assert.equal(nested.plan.source, 'factory.zip › acme-1/image-acme-1.zip');
    assert.ok(nested.plan.notes.some((x) => /bootloader-acme-1\.0\.img .*not packed/.test(x)));
    const deflated = join(fx.dir, 'factory-deflated.zip');
    await writeZip(deflated, [
      { name: 'acme-1/image-acme-1.zip', data: await fs.readFile(inner), compress: true },
    ]);
    const r = await refused(deflated);
    assert.equal(r.reason, 'nested_compressed');
    assert.match(r.message, /extract image-acme-1\.zip/);
  });

  it('refuses a truncated zip, a zip without android-info.txt, and a file that is no zip', async () => {
    const zip = join(fx.dir, 'whole.zip');
    await writeZip(zip, basicEntries());
    const whole = await fs.readFile(zip);
    const cut = join(fx.dir, 'cut.zip');
    await fs.writeFile(cut, whole.subarray(0, Math.floor(whole.length * 0.6)));
    const t = await refused(cut);
    assert.equal(t.reason, 'bad_zip');
    assert.match(
      t.message,
      /cut\.zip is not a readable zip: it is truncated or damaged .* Download or copy it again\./,
    );
    const noInfo = join(fx.dir, 'noinfo.zip');
    await writeZip(noInfo, basicEntries({ 'android-info.txt': undefined }));
    const i = await refused(noInfo);
    assert.equal(i.reason, 'no_android_info');
    assert.match(i.message, /no android-info\.txt/);
    const text = join(fx.dir, 'text.zip');
    await fs.writeFile(text, 'hello');
    assert.equal((await refused(text)).reason, 'bad_zip');
    const folder = join(fx.dir, 'empty-folder');
    await fs.mkdir(folder);
    assert.equal((await refused(folder)).reason, 'no_android_info');
  });

  it('refuses path traversal, a damaged entry, absurd sizes, a bad super_empty.img, an empty image', async () => {
    // Same-length names, then '..' patched into both the local and the central header.
    const evil = join(fx.dir, 'evil.zip');
    await writeZip(evil, [...basicEntries(), { name: 'xx/evil.img', data: Buffer.from('x') }]);
    const bytes = await fs.readFile(evil);
    let at = bytes.indexOf('xx/evil.img');
    while (at >= 0) {
      bytes.write('..', at, 'latin1');
      at = bytes.indexOf('xx/evil.img', at + 1);
    }
    await fs.writeFile(evil, bytes);
    const p = await refused(evil);
    assert.equal(p.reason, 'path_traversal');
    assert.match(p.message, /'\.\.\/evil\.img' that points outside/);

    const damaged = join(fx.dir, 'damaged.zip');
    const data = Buffer.alloc(8192, 0x33);
    await writeZip(
      damaged,
      basicEntries({ 'dtbo.img': data }).map((e) => ({ ...e, compress: false })),
    );
    const d = await fs.readFile(damaged);
    d[d.indexOf(data) + 100] = 0x34;
    await fs.writeFile(damaged, d);
    const c = await refused(damaged);
    assert.equal(c.reason, 'bad_crc');
    assert.match(c.message, /dtbo\.img is damaged/);

    const huge = join(fx.dir, 'huge.zip');
    await writeZip(huge, basicEntries({ 'system.img': sparseHeader(2 ** 30) }));
    assert.equal((await refused(huge)).reason, 'absurd_size');

    const badSuper = join(fx.dir, 'bad-super.zip');
    await writeZip(badSuper, basicEntries({ 'super_empty.img': Buffer.alloc(12288, 0x55) }));
    const s = await refused(badSuper);
    assert.equal(s.reason, 'bad_super_empty');
    assert.match(s.message, /super_empty\.img is not a valid super layout/);

    const bigSuper = join(fx.dir, 'big-super.zip');
    await writeZip(bigSuper, basicEntries({ 'super_empty.img': Buffer.alloc(5 * 1024 * 1024) }));
    assert.equal((await refused(bigSuper)).reason, 'absurd_size');

    const empty = join(fx.dir, 'empty.zip');
    await writeZip(empty, basicEntries({ 'dtbo.img': Buffer.alloc(0) }));
    assert.equal((await refused(empty)).reason, 'empty_image');

    const noVersion = join(fx.dir, 'noversion.zip');
    await writeZip(noVersion, basicEntries({ 'boot.img': undefined }));
    const v = await refused(noVersion);
    assert.equal(v.reason, 'no_version');
    assert.match(v.message, /--version/);
  });

  it('makes super_empty.img the super layout and the images it lists logical; refuses what does not fit', async () => {
    const MiB = 1024 * 1024;
    const superEmpty = Buffer.from(encodeSuperEmpty(virtualPhoneLayout(64 * MiB)));
    const zip = join(fx.dir, 'dynamic.zip');
    await writeZip(
      zip,
      basicEntries({
        'super_empty.img': superEmpty,
        'vendor.img': sparseSkipImage(256),
        'system_other.img': Buffer.alloc(10),
      }),
    );
    const { plan, pack } = await packAndroidImage({ input: zip, outPath: out(), keys: [fx.key] });
    assert.deepEqual(
      pack.manifest.images.map((i) => [i.partition, i.kind ?? 'partition', i.slotted, i.sparse]),
      [
        ['boot', 'partition', true, false],
        ['dtbo', 'partition', true, false],
        ['super', 'super-layout', false, false],
        ['system', 'logical', true, true],
        ['vendor', 'logical', true, true],
      ],
    );
    assert.ok(plan.notes.some((x) => /system_other\.img is for the other slot/.test(x)));

    const unknown = join(fx.dir, 'unknown-logical.zip');
    await writeZip(
      unknown,
      basicEntries({ 'super_empty.img': superEmpty, 'system_ext.img': Buffer.alloc(4096, 1) }),
    );
    const u = await refused(unknown);
    assert.equal(u.reason, 'logical_not_in_layout');
    assert.match(u.message, /super_empty\.img does not list system_ext \(it lists system, vendor, product\)/);

    // Each slot's group of a 64 MiB super holds 28 MiB (45 %); a system image expanding to 32 MiB does not fit.
    const big = join(fx.dir, 'too-big.zip');
    await writeZip(big, basicEntries({ 'super_empty.img': superEmpty, 'system.img': sparseSkipImage(8192) }));
    const b = await refused(big);
    assert.equal(b.reason, 'image_too_large');
    assert.match(b.message, /system\.img does not fit its group main_a in super_empty\.img/);
  });

  it('damaged zips (random bytes changed) are packed or refused as bad input, never another error', async () => {
    const zip = join(fx.dir, 'fuzz-base.zip');
    await writeZip(zip, basicEntries());
    const base = await fs.readFile(zip);
    let seed = 12345;
    const rnd = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    const outcomes = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const b = Buffer.from(base);
      for (let j = 0, k = 1 + (rnd() % 4); j < k; j++) b[rnd() % b.length] = rnd() & 0xff;
      const f = join(fx.dir, `fuzz-${i}.zip`);
      await fs.writeFile(f, b);
      let outcome = 'packed';
      try {
        await packAndroidImage({ input: f, outPath: out(), keys: [fx.key] });
      } catch (err) {
        assert.ok(err instanceof FlashlineError && err.code === 21, `mutation ${i}: ${String(err)}`);
        outcome = (err.detail as { reason: string }).reason;
      }
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
    }
    assert.ok((outcomes.get('bad_zip') ?? 0) > 0, JSON.stringify([...outcomes]));
  });
});
