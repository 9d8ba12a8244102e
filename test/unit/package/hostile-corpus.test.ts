/**
 * The hostile-package corpus: every attack from the issue (TUF's list as far as it applies to a file, plus
 * container tricks) is generated here, and each must be refused with its own sub-code — by openPackage before
 * a handle exists, or, for damage inside image bytes, by openImage before the damaged block is released.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FlashlineError } from '../../../main/common/errors.js';
import { canonicalJson } from '../../../main/package/canonical-json.js';
import {
  generateKeyPair,
  loadSigningPrivateKey,
  loadTrustStore,
  type OpenPackageOptions,
  openPackage,
  PKG,
  StationRollbackStore,
  verifyPackage,
  writeKeyPair,
} from '../../../main/package/index.js';
import {
  type Built,
  buildEntries,
  bytes,
  drainImage,
  type Fixture,
  makeFixture,
  PRODUCT,
  type RawEntry,
  signaturesJson,
  writeRawTar,
} from './helpers.js';

interface Case {
  readonly name: string;
  readonly code: number;
  /** Build the file; return extra open options. */
  readonly build: (fx: Fixture, path: string) => Promise<Partial<OpenPackageOptions> | undefined>;
  /** Damage only visible while streaming image bytes (openPackage succeeds, openImage refuses). */
  readonly inStream?: boolean;
}

const boot = bytes(3 * 4096 + 100, 1);
const system = bytes(2 * 4096, 2);

const replace = (b: Built, name: string, data: Buffer): RawEntry[] =>
  b.entries.map((e) => (e.name === name ? { ...e, data } : e));

function resign(fx: Fixture, manifest: Record<string, unknown>, images = { boot, system }): RawEntry[] {
  const b = buildEntries([fx.key], images);
  const mbytes = Buffer.from(canonicalJson(manifest));
  return [
    { name: 'manifest.json', data: mbytes },
    { name: 'signatures.json', data: signaturesJson(mbytes, [fx.key]) },
    ...b.entries.slice(2),
  ];
}

const cases: Case[] = [
  {
    name: 'rollback below the device index',
    code: PKG.rollbackRefused,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }).entries);
      return { deviceRollbackIndex: 6 };
    },
  },
  {
    name: 'rollback below the station record',
    code: PKG.rollbackRefused,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }).entries);
      const store = new StationRollbackStore(join(fx.dir, 'rollback.json'));
      await store.record(PRODUCT, 9);
      return { stationRollback: store };
    },
  },
  {
    name: 'indefinite freeze (expired)',
    code: PKG.expired,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }).entries);
      return { now: new Date('2037-01-01T00:00:00Z') };
    },
  },
  {
    name: 'endless data (one byte more than signed)',
    code: PKG.imageMismatch,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot });
      await writeRawTar(p, replace(b, 'images/boot.img', Buffer.concat([boot, Buffer.from([0])])));
      return undefined;
    },
  },
  {
    name: 'short image (one byte less than signed)',
    code: PKG.imageMismatch,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot });
      await writeRawTar(p, replace(b, 'images/boot.img', boot.subarray(0, boot.length - 1)));
      return undefined;
    },
  },
  {
    name: 'mix-and-match (image from another package, same size)',
    code: PKG.imageMismatch,
    inStream: true,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot, system });
      await writeRawTar(p, replace(b, 'images/system.img', bytes(system.length, 99)));
      return undefined;
    },
  },
  {
    name: 'one flipped byte in the last block',
    code: PKG.imageMismatch,
    inStream: true,
    build: async (fx, p) => {
      const bad = Buffer.from(boot);
      bad[bad.length - 1]! ^= 1;
      await writeRawTar(p, replace(buildEntries([fx.key], { boot }), 'images/boot.img', bad));
      return undefined;
    },
  },
  {
    name: 'block list swapped for another',
    code: PKG.imageMismatch,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot });
      await writeRawTar(p, replace(b, 'images/boot.blocks', Buffer.alloc(4 * 32, 7)));
      return undefined;
    },
  },
  {
    name: 'wrong software (device product)',
    code: PKG.wrongProduct,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }).entries);
      return { product: 'other-phone' };
    },
  },
  {
    name: 'wrong hardware revision',
    code: PKG.wrongProduct,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }, { hardwareRevisions: ['rev-b'] }).entries);
      return { hardwareRevision: 'rev-a' };
    },
  },
  {
    name: 'needs a newer Flashline',
    code: PKG.wrongProduct,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }, { minFlashlineVersion: '99.0.0' }).entries);
      return undefined;
    },
  },
  {
    name: 'bootloader too old',
    code: PKG.wrongProduct,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }, { minBootloaderVersion: '3.2' }).entries);
      return { bootloaderVersion: '3.1.9' };
    },
  },
  {
    name: 'key used outside its product scope',
    code: PKG.untrustedSigner,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }, { products: [PRODUCT, 'acme-tv'] }).entries);
      return undefined;
    },
  },
  {
    name: 'manifest altered after signing',
    code: PKG.badSignature,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot });
      const forged = Buffer.from(canonicalJson({ ...b.manifest, rollbackIndex: 99 }));
      await writeRawTar(p, replace(b, 'manifest.json', forged));
      return undefined;
    },
  },
  {
    name: 'signed by an unknown key',
    code: PKG.untrustedSigner,
    build: async (fx, p) => {
      await writeKeyPair(join(fx.dir, 'stranger'), generateKeyPair());
      const stranger = await loadSigningPrivateKey(join(fx.dir, 'stranger.key'));
      await writeRawTar(p, buildEntries([stranger], { boot }).entries);
      return undefined;
    },
  },
  {
    name: 'no signatures at all',
    code: PKG.untrustedSigner,
    build: async (_fx, p) => {
      await writeRawTar(p, buildEntries([], { boot }).entries);
      return undefined;
    },
  },
  {
    name: 'signed by a revoked key',
    code: PKG.revokedKey,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }).entries);
      writeFileSync(join(fx.trustDir, 'revoked.json'), JSON.stringify({ revoked: [fx.key.keyId] }));
      const trust = await loadTrustStore({ dirs: [fx.trustDir] });
      writeFileSync(join(fx.trustDir, 'revoked.json'), JSON.stringify({ revoked: [] }));
      return { trust };
    },
  },
  {
    name: 'threshold of two not met by one signature',
    code: PKG.untrustedSigner,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }).entries);
      return { trust: { ...fx.trust, threshold: 2 } };
    },
  },
  {
    name: 'same key twice does not meet a threshold of two',
    code: PKG.untrustedSigner,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key, fx.key], { boot }).entries);
      return { trust: { ...fx.trust, threshold: 2 } };
    },
  },
  ...(
    [
      ['path with ..', { name: 'images/../../etc/passwd', data: Buffer.from('x') }],
      ['absolute path', { name: '/etc/passwd', data: Buffer.from('x') }],
      ['symbolic link', { name: 'images/boot.img', type: 'symlink', linkname: '/dev/sda' }],
      ['hard link', { name: 'images/boot.img', type: 'link', linkname: 'manifest.json' }],
      ['character device', { name: 'images/boot.img', type: 'character-device' }],
      ['directory', { name: 'images/', type: 'directory' }],
      ['duplicate manifest', { name: 'manifest.json', data: Buffer.from('{}') }],
      ['entry not in the manifest', { name: 'images/extra.img', data: Buffer.from('x') }],
    ] as const
  ).map(
    ([name, entry]): Case => ({
      name: `container trick: ${name} (before the images)`,
      code: PKG.malformed,
      build: async (fx, p) => {
        const b = buildEntries([fx.key], { boot });
        await writeRawTar(p, [...b.entries.slice(0, 2), entry as RawEntry, ...b.entries.slice(2)]);
        return undefined;
      },
    }),
  ),
  {
    name: 'container trick: entry not in the manifest after the last image',
    code: PKG.malformed,
    build: async (fx, p) => {
      await writeRawTar(p, [
        ...buildEntries([fx.key], { boot }).entries,
        { name: 'images/extra.img', data: Buffer.from('x') },
      ]);
      return undefined;
    },
  },
  {
    name: 'container trick: pax extension header',
    code: PKG.malformed,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot });
      await writeRawTar(
        p,
        b.entries.map((e) => (e.name === 'images/boot.img' ? { ...e, pax: { comment: 'x' } } : e)),
      );
      return undefined;
    },
  },
  {
    name: 'trailing bytes after the archive',
    code: PKG.malformed,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }).entries);
      writeFileSync(p, Buffer.alloc(512, 0), { flag: 'a' });
      return undefined;
    },
  },
  {
    name: 'image order differs from the manifest',
    code: PKG.malformed,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot, system });
      await writeRawTar(p, [...b.entries.slice(0, 2), ...b.entries.slice(4), ...b.entries.slice(2, 4)]);
      return undefined;
    },
  },
  {
    name: 'oversize manifest',
    code: PKG.malformed,
    build: async (fx, p) => {
      const m = buildEntries([fx.key], { boot }, { description: 'x'.repeat(4000) });
      const big = Buffer.concat([m.manifestBytes, Buffer.alloc(300 * 1024, 0x20)]);
      await writeRawTar(p, replace(m, 'manifest.json', big));
      return undefined;
    },
  },
  {
    name: 'deeply nested manifest',
    code: PKG.malformed,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot });
      await writeRawTar(
        p,
        replace(b, 'manifest.json', Buffer.from(`${'['.repeat(100000)}${']'.repeat(100000)}`)),
      );
      return undefined;
    },
  },
  {
    name: 'newer major format version',
    code: PKG.malformed,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }, { formatVersion: '2.0' }).entries);
      return undefined;
    },
  },
  {
    name: 'signed manifest with an unknown field',
    code: PKG.malformed,
    build: async (fx, p) => {
      await writeRawTar(p, buildEntries([fx.key], { boot }, { postInstallScript: 'rm -rf /' }).entries);
      return undefined;
    },
  },
  {
    name: 'manifest not canonical (whitespace)',
    code: PKG.malformed,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot });
      const pretty = Buffer.from(JSON.stringify(b.manifest, null, 1));
      await writeRawTar(p, [
        { name: 'manifest.json', data: pretty },
        { name: 'signatures.json', data: signaturesJson(pretty, [fx.key]) },
        ...b.entries.slice(2),
      ]);
      return undefined;
    },
  },
  {
    name: 'manifest lists an image the container lacks',
    code: PKG.malformed,
    build: async (fx, p) => {
      const b = buildEntries([fx.key], { boot, system });
      await writeRawTar(p, b.entries.slice(0, 4));
      return undefined;
    },
  },
  {
    name: 'not a tar file',
    code: PKG.malformed,
    build: async (_fx, p) => {
      writeFileSync(p, bytes(5000, 3));
      return undefined;
    },
  },
  {
    name: 'empty file',
    code: PKG.malformed,
    build: async (_fx, p) => {
      writeFileSync(p, Buffer.alloc(0));
      return undefined;
    },
  },
  {
    name: 'missing file',
    code: PKG.verifyFailed,
    build: async () => undefined,
  },
  {
    name: 'expires before it was created (signed nonsense)',
    code: PKG.malformed,
    build: async (fx, p) => {
      await writeRawTar(
        p,
        resign(
          fx,
          { ...buildEntries([fx.key], { boot }).manifest, expires: '2025-01-01T00:00:00.000Z' },
          { boot, system },
        ).slice(0, 4),
      );
      return undefined;
    },
  },
];

describe('hostile package corpus', () => {
  let fx: Fixture;
  before(async () => {
    fx = await makeFixture();
  });
  after(() => fx.cleanup());

  it('accepts the untouched baseline', async () => {
    const p = join(fx.dir, 'baseline.flp');
    await writeRawTar(p, buildEntries([fx.key], { boot, system }).entries);
    const r = await verifyPackage(p, { trust: fx.trust, product: PRODUCT });
    assert.equal(r.code, 0, r.detail);
    const h = await openPackage(p, { trust: fx.trust });
    assert.deepEqual((await drainImage(h.openImage('boot'))).received, boot);
  });

  for (const [n, c] of cases.entries()) {
    it(`refuses ${c.name} with ${c.code}`, async () => {
      const p = join(fx.dir, `hostile-${n}.flp`);
      const extra = (await c.build(fx, p)) ?? {};
      const options: OpenPackageOptions = { trust: fx.trust, ...extra };
      const r = await verifyPackage(p, options);
      assert.equal(r.ok, false);
      assert.equal(r.code, c.code, `verify: ${r.detail}`);
      assert.ok(r.detail.length > 10 && !r.detail.includes('    at '), 'a clear one-line message');

      if (!c.inStream) {
        await assert.rejects(openPackage(p, options), (err: unknown) => {
          assert.ok(err instanceof FlashlineError, String(err));
          assert.equal(err.code, c.code, err.message);
          return true;
        });
        return;
      }
      const h = await openPackage(p, options);
      for (const img of h.images) {
        const original = img.partition === 'boot' ? boot : system;
        const { received, error } = await drainImage(h.openImage(img.partition));
        // Whatever was released is a verified prefix of the true image, never a damaged byte.
        assert.deepEqual(received, original.subarray(0, received.length));
        if (error) {
          assert.ok(error instanceof FlashlineError);
          assert.equal(error.code, c.code);
          assert.ok(received.length < original.length);
        }
      }
    });
  }
});
