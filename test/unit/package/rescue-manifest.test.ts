/**
 * Manifest format 1.2: the `rescue` section and image `file` (Qualcomm EDL rescue packages), and the package
 * kind check — a firmware package never opens as a rescue package and the other way round (27).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { canonicalJson } from '../../../main/package/canonical-json.js';
import {
  DEMO_SIGNING_KEY_PATH,
  loadSigningPrivateKey,
  loadTrustStore,
  openPackage,
  packPackage,
} from '../../../main/package/index.js';
import {
  type ManifestImage,
  packageKind,
  parseManifest,
  validateManifest,
} from '../../../main/package/manifest.js';
import { baseManifest, bytes, describeImage, refusal } from './helpers.js';

const file = (name: string, over: Partial<ManifestImage> = {}): ManifestImage => ({
  ...describeImage(name.replace(/\./g, '_'), bytes(100, name.length)).image,
  slotted: false,
  file: name,
  ...over,
});

const rescue = {
  kind: 'qualcomm-edl',
  programmer: 'prog.elf',
  rawprogram: ['rawprogram0.xml'],
  patch: [],
};

const rescueManifest = (images = [file('prog.elf'), file('rawprogram0.xml')], over = {}) =>
  baseManifest(images, { formatVersion: '1.2', rescue: { ...rescue, ...over } });

describe('manifest format 1.2: rescue packages', () => {
  it('reads a rescue manifest as kind qualcomm-rescue, and one without a rescue section as firmware', () => {
    const m = parseManifest(Buffer.from(canonicalJson(rescueManifest())));
    assert.equal(packageKind(m), 'qualcomm-rescue');
    assert.equal(m.images[0]!.file, 'prog.elf');
    assert.equal(
      packageKind(validateManifest(baseManifest([file('boot.img', { file: undefined })]))),
      'firmware',
    );
  });

  it('refuses rescue sections that break the rules', () => {
    assert.match(refusal(rescueManifest([file('prog.elf')])), /rescue file rawprogram0\.xml is not an image/);
    assert.match(
      refusal(rescueManifest([file('prog.elf'), file('rawprogram0.xml', { file: undefined })])),
      /has no file name/,
    );
    assert.match(
      refusal(rescueManifest([file('prog.elf'), file('rawprogram0.xml', { slotted: true })])),
      /plain, unslotted partition image/,
    );
    assert.match(
      refusal({ ...rescueManifest(), install: [{ op: 'erase', partition: 'prog_elf' }] }),
      /no install steps/,
    );
    assert.match(
      refusal(baseManifest([file('boot.img')])),
      /names a file but the package has no rescue section/,
    );
    assert.match(refusal(rescueManifest(undefined, { msmHwIds: ['XYZ'] })), /16 lowercase hex digits/);
    assert.match(
      refusal(rescueManifest([file('prog.elf'), file('../etc.xml')], { rawprogram: ['../etc.xml'] })),
      /plain file name/,
    );
  });
});

describe('package kind on open', () => {
  let dir: string;
  let rescuePkg: string;
  let firmwarePkg: string;

  before(async () => {
    dir = await fs.mkdtemp(join(tmpdir(), 'flashline-rescue-kind-'));
    const key = await loadSigningPrivateKey(DEMO_SIGNING_KEY_PATH);
    await fs.writeFile(join(dir, 'prog.elf'), 'programmer');
    await fs.writeFile(join(dir, 'raw.xml'), '<?xml version="1.0" ?><data></data>');
    const pack = (outPath: string, extra: Partial<Parameters<typeof packPackage>[0]>) =>
      packPackage({
        outPath,
        products: ['flashline-virtual'],
        version: '1.0.0',
        rollbackIndex: 0,
        keys: [key],
        images: [{ partition: 'boot', source: join(dir, 'prog.elf') }],
        ...extra,
      });
    rescuePkg = join(dir, 'rescue.flp');
    await pack(rescuePkg, {
      images: [
        { partition: 'prog_elf', file: 'prog.elf', source: join(dir, 'prog.elf'), slotted: false },
        { partition: 'raw_xml', file: 'raw.xml', source: join(dir, 'raw.xml'), slotted: false },
      ],
      rescue: { kind: 'qualcomm-edl', programmer: 'prog.elf', rawprogram: ['raw.xml'], patch: [] },
    });
    firmwarePkg = join(dir, 'fw.flp');
    await pack(firmwarePkg, {});
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses a rescue package where firmware is expected (the default) and the other way round, with 27', async () => {
    const trust = await loadTrustStore();
    await assert.rejects(openPackage(rescuePkg, { trust }), (err: { code?: unknown; message: string }) => {
      assert.equal(err.code, 27);
      assert.match(err.message, /rescue package .* 'flashline rescue'/);
      return true;
    });
    await assert.rejects(openPackage(firmwarePkg, { trust, kind: 'qualcomm-rescue' }), { code: 27 });
    const ok = await openPackage(rescuePkg, { trust, kind: 'qualcomm-rescue' });
    assert.equal(ok.manifest.formatVersion, '1.2');
    assert.equal((await openPackage(firmwarePkg, { trust, kind: 'any' })).manifest.rescue, undefined);
  });
});
