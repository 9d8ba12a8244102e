/**
 * The technician's flow through the CLI: `virtual-device make-android-image` → `pack --from-android-image`
 * → `verify` accepts it; the manifest has the super layout and the logical (sparse) images. Zip64 entries
 * are read; a truncated zip and a zip without android-info.txt are refused with exit 1 (bad input, as
 * every `pack` input refusal) and one clear line; image bytes are read as bounded chunks (streams).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { openAndroidImage } from '../../../main/package/android-image/index.js';

const execFileP = promisify(execFile);
const bin = fileURLToPath(new URL('../../../bin/flashline.js', import.meta.url));

describe('make-android-image → pack --from-android-image → verify', () => {
  let dir: string;
  /**
   * The real binary, one process per call: an in-process run would have to capture this process's stdout,
   * which is also where the test runner reports.
   */
  const run = async (...args: string[]) => {
    try {
      const r = await execFileP(process.execPath, [bin, ...args], {
        cwd: dir,
        env: { ...process.env, FLASHLINE_HOME: join(dir, 'home') },
        timeout: 240_000,
      });
      return { code: 0, out: r.stdout, err: r.stderr };
    } catch (err) {
      const e = err as { code?: number; stdout?: string; stderr?: string };
      if (typeof e.code !== 'number') throw err;
      return { code: e.code, out: e.stdout ?? '', err: e.stderr ?? '' };
    }
  };
  const p = (name: string) => join(dir, name);
  const make = (version: string, zip: string, ...more: string[]) =>
    run(
      'virtual-device',
      'make-android-image',
      '--product',
      'acme-phone',
      '--version',
      version,
      '--out',
      p(zip),
      ...more,
    );
  const packFrom = (zip: string, out: string) =>
    run('pack', '--from-android-image', p(zip), '--key', p('release.key'), '--out', p(out));

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'flashline-android-image-'));
    const k = await run('keygen', '--out', p('release'), '--product', 'acme-phone');
    assert.equal(k.code, 0, k.err);
    mkdirSync(p('trust'));
    writeFileSync(p('trust/release.pub'), readFileSync(p('release.pub')));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('packs the made image; verify accepts it; super layout and sparse logical images in the manifest', async () => {
    const made = await make(
      '3.1.4',
      'img.zip',
      '--super-size',
      String(64 * 1024 * 1024),
      '--system-size',
      String(8 * 1024 * 1024),
      '--vendor-size',
      String(4 * 1024 * 1024),
      '--product-size',
      String(1024 * 1024),
    );
    assert.equal(made.code, 0, made.err);
    assert.match(
      made.out,
      /wrote .*img\.zip: android-info\.txt .* boot\.img .* super_empty\.img .* system\.img .* vendor\.img .* product\.img/,
    );
    const packed = await packFrom('img.zip', 'img.flp');
    assert.equal(packed.code, 0, packed.err);
    assert.match(packed.out, /acme-phone 3\.1\.4 \(device reports 3\.1\.4\)/);
    const verified = await run('verify', p('img.flp'), '--trust', p('trust'), '--product', 'acme-phone');
    assert.equal(verified.code, 0, verified.out + verified.err);
    const inspected = await run('inspect', p('img.flp'), '--json');
    assert.equal(inspected.code, 0, inspected.err);
    const { manifest } = JSON.parse(inspected.out) as {
      manifest: {
        deviceRequirements: Record<string, string[]>;
        images: { partition: string; kind?: string; sparse: boolean; slotted: boolean }[];
      };
    };
    assert.deepEqual(manifest.deviceRequirements, { product: ['acme-phone'] });
    assert.deepEqual(
      manifest.images.map((i) => [i.partition, i.kind ?? 'partition', i.sparse, i.slotted]),
      [
        ['boot', 'partition', false, true],
        ['super', 'super-layout', false, false],
        ['product', 'logical', true, true],
        ['system', 'logical', true, true],
        ['vendor', 'logical', true, true],
      ],
    );
  });

  it('reads a zip64 image (zip64 headers on every entry)', async () => {
    const made = await make(
      '3.1.5',
      'z64.zip',
      '--zip64',
      '--store',
      '--system-size',
      String(4 * 1024 * 1024),
      '--vendor-size',
      String(1024 * 1024),
    );
    assert.equal(made.code, 0, made.err);
    // The headers really are zip64: every central directory entry carries the zip64 extra field (0x0001).
    const raw = readFileSync(p('z64.zip'));
    assert.ok(raw.includes(Buffer.from([0x50, 0x4b, 0x06, 0x06])), 'zip64 end of central directory record');
    const packed = await packFrom('z64.zip', 'z64.flp');
    assert.equal(packed.code, 0, packed.err);
    assert.equal(
      (await run('verify', p('z64.flp'), '--trust', p('trust'), '--product', 'acme-phone')).code,
      0,
    );
  });

  it('refuses a truncated zip and a zip without android-info.txt with exit 21 (malformed_package) and one clear line; writes nothing', async () => {
    const whole = readFileSync(p('img.zip'));
    writeFileSync(p('cut.zip'), whole.subarray(0, whole.length - 5000));
    const cut = await packFrom('cut.zip', 'cut.flp');
    assert.equal(cut.code, 21);
    assert.match(
      cut.err,
      /^flashline: cut\.zip is not a readable zip: it is truncated or damaged \(.*\)\. Download or copy it again\.\n$/,
    );
    assert.ok(!existsSync(p('cut.flp')));
    const { writeZip } = await import('../../unit/package/android-zip.js');
    await writeZip(p('noinfo.zip'), [{ name: 'boot.img', data: Buffer.alloc(4096) }]);
    const no = await packFrom('noinfo.zip', 'no.flp');
    assert.equal(no.code, 21);
    assert.match(
      no.err,
      /^flashline: noinfo\.zip has no android-info\.txt at its top level, so it is not an Android update image/,
    );
    assert.equal(no.err.split('\n').length, 2, 'one line');
    assert.ok(!existsSync(p('no.flp')));
  });

  it('streams entries: a large image arrives as many bounded chunks, never whole', async () => {
    const src = await openAndroidImage(p('img.zip'));
    try {
      let chunks = 0;
      let largest = 0;
      let total = 0;
      for await (const c of src.open('system.img')) {
        chunks++;
        largest = Math.max(largest, c.byteLength);
        total += c.byteLength;
      }
      assert.equal(total, src.files.get('system.img'));
      assert.ok(chunks > 4, `${chunks} chunks`);
      assert.ok(largest <= 1024 * 1024, `largest chunk ${largest} bytes`);
      assert.ok(largest < total / 2, 'never the whole image in one piece');
    } finally {
      await src.close();
    }
  });
});
