/**
 * docs/package-format.md says the reader refuses tar extension headers (pax `x`/`g`, GNU long names) and
 * anything that is not a package, with status 21 in a technician's words. These files are built by hand
 * (tar-stream for pax, raw 512-byte blocks for GNU headers) and each must be refused by openPackage and by
 * verifyPackage with a message that names the problem and never speaks tar-library jargon.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { FlashlineError } from '../../../main/common/errors.js';
import { openPackage, PKG, packPackage, verifyPackage } from '../../../main/package/index.js';
import { buildEntries, bytes, type Fixture, makeFixture, type RawEntry, writeRawTar } from './helpers.js';

const BLOCK = 512;
const boot = bytes(3 * 4096 + 100, 1);
/** Words of the tar library that must never reach a technician. */
const JARGON = /invalid tar header|gunzip|unexpected end of data|header exceeds/i;

/** A raw tar header block of `typeflag` carrying `size` bytes, with a correct checksum. */
function rawHeader(name: string, typeflag: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'latin1');
  h.write('0000644\0', 100, 'latin1');
  h.write('0000000\0', 108, 'latin1');
  h.write('0000000\0', 116, 'latin1');
  h.write(`${size.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
  h.write('00000000000\0', 136, 'latin1');
  h.write(typeflag, 156, 'latin1');
  h.write('ustar  \0', 257, 'latin1'); // GNU magic
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
  return h;
}

/** An extension header with its data, padded to whole blocks. */
function extensionBlocks(typeflag: string, data: Buffer): Buffer {
  const pad = Buffer.alloc((BLOCK - (data.length % BLOCK)) % BLOCK);
  return Buffer.concat([rawHeader('././@LongLink', typeflag, data.length), data, pad]);
}

/** Insert `blocks` into a valid tar at the header of entry `index` (0 = manifest.json). */
function insertBefore(tar: Buffer, entries: readonly RawEntry[], index: number, blocks: Buffer): Buffer {
  let at = 0;
  for (const e of entries.slice(0, index)) at += BLOCK + Math.ceil((e.data?.length ?? 0) / BLOCK) * BLOCK;
  return Buffer.concat([tar.subarray(0, at), blocks, tar.subarray(at)]);
}

async function refusal(fx: Fixture, path: string): Promise<FlashlineError> {
  const verdict = await verifyPackage(path, { trust: fx.trust });
  assert.equal(verdict.code, PKG.malformed, `verify: ${verdict.detail}`);
  assert.doesNotMatch(verdict.detail ?? '', JARGON);
  try {
    await openPackage(path, { trust: fx.trust });
  } catch (err) {
    assert.ok(err instanceof FlashlineError, String(err));
    assert.equal(err.code, PKG.malformed);
    assert.doesNotMatch(err.message, JARGON);
    assert.equal(err.message, verdict.detail, 'open and verify say the same');
    return err;
  }
  assert.fail('openPackage accepted the file');
}

describe('package container: extension headers and non-packages are refused (status 21)', () => {
  let fx: Fixture;
  let good: RawEntry[];
  let goodTar: Buffer;
  before(async () => {
    fx = await makeFixture();
    good = buildEntries([fx.key], { boot }).entries;
    await writeRawTar(join(fx.dir, 'good.flp'), good);
    goodTar = readFileSync(join(fx.dir, 'good.flp'));
  });
  after(() => fx.cleanup());

  it('the unmodified package opens (so the refusals below are about the headers)', async () => {
    const verdict = await verifyPackage(join(fx.dir, 'good.flp'), { trust: fx.trust });
    assert.equal(verdict.code, 0, verdict.detail);
  });

  for (const at of ['manifest.json', 'signatures.json', 'images/boot.img']) {
    it(`a pax extended header on ${at}`, async () => {
      const p = join(fx.dir, 'pax.flp');
      await writeRawTar(
        p,
        good.map((e) => (e.name === at ? { ...e, pax: { comment: 'made by another tar' } } : e)),
      );
      const err = await refusal(fx, p);
      assert.match(
        err.message,
        new RegExp(
          `^This file is not a Flashline package, or it is damaged \\(it holds a pax extended header before '${at}'`,
        ),
      );
    });
  }

  it('a pax global header before the manifest', async () => {
    const p = join(fx.dir, 'pax-global.flp');
    writeFileSync(p, insertBefore(goodTar, good, 0, extensionBlocks('g', Buffer.from('15 comment=abc\n'))));
    assert.match((await refusal(fx, p)).message, /pax global header before 'manifest.json'/);
  });

  it('a pax global header after the last image', async () => {
    const p = join(fx.dir, 'pax-trailing.flp');
    writeFileSync(
      p,
      insertBefore(goodTar, good, good.length, extensionBlocks('g', Buffer.from('15 comment=abc\n'))),
    );
    assert.match((await refusal(fx, p)).message, /pax global header after the last image/);
  });

  for (const [flag, what] of [
    ['L', 'GNU long-name header'],
    ['K', 'GNU long-name header'],
  ] as const) {
    it(`a GNU '${flag}' header before the signatures`, async () => {
      const p = join(fx.dir, `gnu-${flag}.flp`);
      writeFileSync(
        p,
        insertBefore(goodTar, good, 1, extensionBlocks(flag, Buffer.from('signatures.json\0'))),
      );
      assert.match((await refusal(fx, p)).message, new RegExp(`${what} before 'signatures.json'`));
    });
  }

  it('a GNU volume header in place of the manifest', async () => {
    const p = join(fx.dir, 'gnu-V.flp');
    writeFileSync(p, Buffer.concat([rawHeader('VOLUME 1', 'V', 0), goodTar]));
    assert.match((await refusal(fx, p)).message, /GNU extension header at byte 0/);
  });

  it('an empty file', async () => {
    const p = join(fx.dir, 'empty.flp');
    writeFileSync(p, Buffer.alloc(0));
    assert.match((await refusal(fx, p)).message, /not a Flashline package, or it is damaged \(it is empty/);
  });

  it('a gzip-compressed package', async () => {
    const p = join(fx.dir, 'package.flp.gz');
    writeFileSync(p, gzipSync(goodTar));
    const err = await refusal(fx, p);
    assert.equal(
      err.message,
      'This file is not a Flashline package, or it is damaged (it is a gzip-compressed file).',
    );
  });

  it('random bytes', async () => {
    const p = join(fx.dir, 'random.flp');
    writeFileSync(p, randomBytes(64 * 1024));
    const err = await refusal(fx, p);
    assert.match(err.message, /^This file is not a Flashline package, or it is damaged \(/);
    // The library's own words stay available to support, under detail.
    assert.match(String((err.detail as { cause?: string }).cause), /tar header/i);
  });

  it('a package cut off in the middle of an image', async () => {
    const p = join(fx.dir, 'cut.flp');
    writeFileSync(p, goodTar.subarray(0, goodTar.length - 1024 - 2000));
    assert.match((await refusal(fx, p)).message, /ends early/);
  });
});

describe('package writer: never emits an extension header', () => {
  let fx: Fixture;
  before(async () => {
    fx = await makeFixture();
  });
  after(() => fx.cleanup());

  it('the longest partition name the manifest allows fits the plain header', async () => {
    // Partition names are ASCII, at most 63 characters: 'images/' + 63 + '.blocks' = 77 < 100 bytes, so
    // tar-stream never needs a pax header for the name (nor for sizes: it writes base-256 numbers).
    const partition = `p${'x'.repeat(62)}`;
    writeFileSync(join(fx.dir, 'long.img'), boot);
    const out = join(fx.dir, 'long.flp');
    await packPackage({
      outPath: out,
      products: ['acme-phone'],
      version: '1.0',
      rollbackIndex: 1,
      images: [{ partition, source: join(fx.dir, 'long.img') }],
      keys: [fx.key],
    });
    const tar = readFileSync(out);
    const flags: string[] = [];
    for (let at = 0; at + BLOCK <= tar.length && tar[at] !== 0; ) {
      flags.push(String.fromCharCode(tar[at + 156] ?? 0));
      const size = Number.parseInt(
        tar
          .subarray(at + 124, at + 136)
          .toString('latin1')
          .trim(),
        8,
      );
      at += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    }
    assert.deepEqual(flags, ['0', '0', '0', '0']);
    const verdict = await verifyPackage(out, { trust: fx.trust });
    assert.equal(verdict.code, 0, verdict.detail);
  });
});
