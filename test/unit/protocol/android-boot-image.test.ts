/**
 * The Android boot image header codec: round trips for every header version (fast-check), the os_version
 * packing, refusals, and Debian's `mkbootimg` as the judge of the layout.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import {
  BOOT_HEADER_SIZES,
  BootImageError,
  type BootImageHeader,
  buildBootImageV3,
  encodeBootImageHeader,
  formatOsVersion,
  formatPatchLevel,
  packOsVersion,
  parseBootImageHeader,
  unpackOsVersion,
} from '../../../main/protocol/android/boot-image.js';

const run = promisify(execFile);
const MKBOOTIMG = '/usr/bin/mkbootimg';

const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const b7 = fc.integer({ min: 0, max: 127 });
const text = (max: number) =>
  fc.string({ unit: fc.integer({ min: 1, max: 255 }).map((c) => String.fromCharCode(c)), maxLength: max });
const common = {
  kernelSize: u32,
  ramdiskSize: u32,
  // Spread: fast-check records have no prototype, parsed headers have Object's.
  osVersion: fc.record({ major: b7, minor: b7, patch: b7 }).map((v) => ({ ...v })),
  osPatchLevel: fc
    .record({ year: fc.integer({ min: 2000, max: 2127 }), month: fc.integer({ min: 0, max: 15 }) })
    .map((v) => ({ ...v })),
};

const legacy: fc.Arbitrary<BootImageHeader> = fc
  .record({
    ...common,
    headerVersion: fc.constantFrom(0 as const, 1 as const, 2 as const),
    cmdline: text(511 + 1023),
    kernelAddr: u32,
    ramdiskAddr: u32,
    secondSize: u32,
    secondAddr: u32,
    tagsAddr: u32,
    pageSize: u32,
    name: text(16),
    id: fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex')),
    recoveryDtboSize: u32,
    recoveryDtboOffset: u64,
    dtbSize: u32,
    dtbAddr: u64,
  })
  .map((h) => ({
    ...h,
    // Fields a version does not have read back as 0.
    recoveryDtboSize: h.headerVersion >= 1 ? h.recoveryDtboSize : 0,
    recoveryDtboOffset: h.headerVersion >= 1 ? h.recoveryDtboOffset : 0n,
    dtbSize: h.headerVersion === 2 ? h.dtbSize : 0,
    dtbAddr: h.headerVersion === 2 ? h.dtbAddr : 0n,
  }));

const modern: fc.Arbitrary<BootImageHeader> = fc
  .record({
    ...common,
    headerVersion: fc.constantFrom(3 as const, 4 as const),
    cmdline: text(1535),
    signatureSize: u32,
  })
  .map((h) => ({ ...h, signatureSize: h.headerVersion === 4 ? h.signatureSize : 0 }));

test('every header version round-trips through encode and parse', () => {
  fc.assert(
    fc.property(fc.oneof(legacy, modern), (h) => {
      const bytes = encodeBootImageHeader(h);
      assert.equal(bytes.byteLength, BOOT_HEADER_SIZES[h.headerVersion]);
      assert.deepEqual(parseBootImageHeader(bytes), h);
    }),
    { numRuns: 300 },
  );
});

test('os_version packs A.B.C and the patch level as bootimg.h describes', () => {
  fc.assert(
    fc.property(u32, (packed) => {
      const { osVersion, osPatchLevel } = unpackOsVersion(packed);
      assert.equal(packOsVersion(osVersion, osPatchLevel), packed);
    }),
  );
  // 2.1.0, 2026-11: A<<25 | B<<18 | C<<11 | (26<<4) | 11
  assert.equal(
    packOsVersion({ major: 2, minor: 1, patch: 0 }, { year: 2026, month: 11 }),
    (2 << 25) | (1 << 18) | (26 << 4) | 11,
  );
  assert.equal(formatOsVersion({ major: 14, minor: 0, patch: 3 }), '14.0.3');
  assert.equal(formatPatchLevel({ year: 2026, month: 3 }), '2026-03');
  assert.equal(formatPatchLevel({ year: 2000, month: 0 }), null);
  assert.throws(
    () => packOsVersion({ major: 128, minor: 0, patch: 0 }, { year: 2026, month: 1 }),
    RangeError,
  );
});

test('refuses what is not a header it can read', () => {
  assert.equal(parseBootImageHeader(Buffer.from('FLASHLINE-VIRTUAL-IMAGE v1\n')), null);
  assert.equal(parseBootImageHeader(Buffer.alloc(0)), null);
  const h = encodeBootImageHeader({
    headerVersion: 3,
    kernelSize: 1,
    ramdiskSize: 1,
    osVersion: { major: 1, minor: 0, patch: 0 },
    osPatchLevel: { year: 2026, month: 1 },
    cmdline: '',
    signatureSize: 0,
  });
  assert.throws(() => parseBootImageHeader(h.subarray(0, 100)), BootImageError);
  const v9 = Buffer.from(h);
  v9.writeUInt32LE(9, 40);
  assert.throws(() => parseBootImageHeader(v9), /version 9 is not 0-4/);
  assert.throws(
    () => encodeBootImageHeader({ ...parseBootImageHeader(h)!, cmdline: 'x'.repeat(1536) }),
    RangeError,
  );
});

test('a v3 image built here has its header, kernel and ramdisk on 4 KiB pages', () => {
  const img = buildBootImageV3({
    kernel: Buffer.alloc(5000, 1),
    ramdisk: Buffer.alloc(10, 2),
    osVersion: { major: 2, minor: 0, patch: 0 },
    osPatchLevel: { year: 2026, month: 11 },
  });
  assert.equal(img.byteLength, 4096 + 8192 + 4096);
  assert.equal(img[4096], 1);
  assert.equal(img[4096 + 8192], 2);
  const h = parseBootImageHeader(img)!;
  assert.equal(formatOsVersion(h.osVersion), '2.0.0');
  assert.equal(h.kernelSize, 5000);
});

test("Debian's mkbootimg writes what the parser reads (header versions 0, 1, 2, 3)", async (t) => {
  if (!existsSync(MKBOOTIMG)) {
    t.skip(`${MKBOOTIMG} is absent (Debian package mkbootimg; .ci/run installs it)`);
    return;
  }
  const dir = await fs.mkdtemp(join(tmpdir(), 'flashline-bootimg-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  const kernel = join(dir, 'kernel');
  const ramdisk = join(dir, 'ramdisk');
  const dtb = join(dir, 'dtb');
  await fs.writeFile(kernel, Buffer.alloc(5000, 7));
  await fs.writeFile(ramdisk, Buffer.alloc(3000, 9));
  await fs.writeFile(dtb, Buffer.alloc(100, 3));
  for (const version of [0, 1, 2, 3]) {
    const out = join(dir, `boot-v${version}.img`);
    const args = [
      '--kernel',
      kernel,
      '--ramdisk',
      ramdisk,
      '--os_version',
      '2.1.0',
      '--os_patch_level',
      '2026-11',
    ];
    args.push(
      '--header_version',
      String(version),
      '--cmdline',
      'console=ttyS0 androidboot.slot_suffix=_a',
      '-o',
      out,
    );
    if (version < 3) args.push('--board', 'virt');
    if (version === 2) args.push('--dtb', dtb);
    await run(MKBOOTIMG, args, { timeout: 60_000 });
    const h = parseBootImageHeader(await fs.readFile(out));
    assert.ok(h, `v${version}: no header`);
    assert.equal(h.headerVersion, version);
    assert.equal(h.kernelSize, 5000);
    assert.equal(h.ramdiskSize, 3000);
    assert.equal(formatOsVersion(h.osVersion), '2.1.0');
    assert.equal(formatPatchLevel(h.osPatchLevel), '2026-11');
    assert.equal(h.cmdline, 'console=ttyS0 androidboot.slot_suffix=_a');
    if ('pageSize' in h) {
      assert.equal(h.name, 'virt');
      assert.equal(h.pageSize, 2048);
      if (h.headerVersion >= 1) assert.equal(h.recoveryDtboSize, 0);
      if (h.headerVersion === 2) assert.equal(h.dtbSize, 100);
    }
  }
});
