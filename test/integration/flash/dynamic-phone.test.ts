/**
 * Issue #13's "Done when", engine side: a package made from an Android image (make-android-image →
 * pack --from-android-image, in process) flashes to 0 on the stock phone with dynamic partitions, found in
 * Android: identified over ADB, rebooted into its bootloader (boot_b), then into fastbootd (update-super,
 * system_b/vendor_b sized and written through their extents), booted on slot b. A super layout larger than
 * the phone's super is refused 27 before anything is written; a cable pull in fastbootd resumes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { FlashService } from '../../../main/flash/service.js';
import { openAndroidImage, packAndroidImage } from '../../../main/package/android-image/index.js';
import { makeAndroidImage } from '../../../main/package/android-image/make.js';
import { generateKeyPair, loadSigningPrivateKey } from '../../../main/package/keys.js';
import { decodeSparse } from '../../../main/protocol/fastboot/sparse/index.js';
import { deviceSha256, dynamicPhone, MiB, TEST_SUPER_SIZE } from '../fastbootd/helpers.js';
import { eventually } from '../phone/helpers.js';
import { FAST_ENGINE } from './helpers.js';

const PRODUCT = 'flashline-virtual';

/** Sign a package made from a made Android image; returns its path, trust dir and the expanded hashes. */
async function androidPackage(dir: string, superSize: number) {
  const zip = join(dir, `factory-${superSize}.zip`);
  await makeAndroidImage({
    product: PRODUCT,
    version: '2.0.0',
    outPath: zip,
    superSize,
    systemSize: 8 * MiB,
    vendorSize: 4 * MiB,
    productSize: 0,
  });
  const pair = generateKeyPair({ products: [PRODUCT] });
  const keyFile = join(dir, 'release.key');
  const trust = join(dir, 'trust');
  await fs.mkdir(trust, { recursive: true });
  await fs.writeFile(keyFile, pair.privateFile);
  await fs.writeFile(join(trust, 'release.pub'), pair.publicFile);
  const out = join(dir, `android-${superSize}.flp`);
  await packAndroidImage({ input: zip, outPath: out, keys: [await loadSigningPrivateKey(keyFile)] });
  const source = await openAndroidImage(zip);
  const expanded = async (name: string) => {
    const h = createHash('sha256');
    for await (const op of decodeSparse(source.open(name))) {
      if (op.kind === 'data') h.update(op.bytes);
      else if (op.kind === 'fill') h.update(Buffer.alloc(op.length, op.value));
    }
    return h.digest('hex');
  };
  try {
    return { path: out, trust, system: await expanded('system.img'), vendor: await expanded('vendor.img') };
  } finally {
    await source.close();
  }
}

async function flash(t: TestContext, home: string, trust: string, pkgPath: string, targets: string[]) {
  const service = new FlashService({ home, trustDirs: [trust], concurrency: 1, engine: FAST_ENGINE });
  t.after(() => service.stopAllJobs());
  const [id] = await service.flash(pkgPath, [targets]);
  return { service, report: await service.manager.wait(id!) };
}

test('a package made from an Android image flashes to 0: logical system_b/vendor_b written, boots slot b', async (t) => {
  const p = await dynamicPhone(t);
  const pkg = await androidPackage(p.dir, TEST_SUPER_SIZE);
  const systemA = await deviceSha256(p.vd, 'system_a');
  assert.ok(p.vd.adbAddress);
  const { report } = await flash(t, join(p.dir, 'home'), pkg.trust, pkg.path, [
    p.vd.adbAddress,
    p.vd.address,
  ]);
  assert.equal(report.status, 0, `${report.message}\n${report.messages.join('\n')}`);
  assert.equal(report.device.slotAfter, 'b');
  assert.equal(report.device.versionAfter, '2.0.0');
  const d = p.vd.device;
  await eventually(async () => p.vd.isUp && d.mode === 'os', 'Android after the update');
  assert.equal(d.bootedSlot, 'b');
  assert.equal(await deviceSha256(p.vd, 'system_b'), pkg.system, 'system_b read back through its extents');
  assert.equal(await deviceSha256(p.vd, 'vendor_b'), pkg.vendor);
  assert.equal(await deviceSha256(p.vd, 'system_a'), systemA, 'the working slot keeps its system');
  assert.ok(
    report.messages.some((m) => /into fastbootd/.test(m)),
    report.messages.join('\n'),
  );
});

test('a super layout larger than the phone super is refused 27 before anything is written', async (t) => {
  const p = await dynamicPhone(t);
  const pkg = await androidPackage(p.dir, TEST_SUPER_SIZE * 2);
  const before = structuredClone(p.vd.device.bootControl);
  const systemB = await deviceSha256(p.vd, 'system_b').catch(() => 'absent');
  assert.ok(p.vd.adbAddress);
  const { report } = await flash(t, join(p.dir, 'home'), pkg.trust, pkg.path, [
    p.vd.adbAddress,
    p.vd.address,
  ]);
  assert.equal(report.status, 27, report.message);
  assert.match(
    report.message,
    /super layout is for a super partition of \d+ bytes, but this device's super holds only/,
  );
  assert.deepEqual(p.vd.device.bootControl, before, 'no slot touched');
  assert.equal(await deviceSha256(p.vd, 'system_b').catch(() => 'absent'), systemB);
});

test('a cable pull in fastbootd (while system_b is written) resumes there and ends 0', async (t) => {
  const p = await dynamicPhone(t);
  const pkg = await androidPackage(p.dir, TEST_SUPER_SIZE);
  const d = p.vd.device;
  // Armed once the phone is in fastbootd: the next download past 512 KiB (a piece of system_b) is cut.
  let armed = false;
  const watch = setInterval(() => {
    if (!armed && d.mode === 'fastbootd') {
      armed = true;
      d.faults = { ...d.faults, dropAtByte: 512 * 1024 };
    }
  }, 1);
  t.after(() => clearInterval(watch));
  assert.ok(p.vd.adbAddress);
  const { report } = await flash(t, join(p.dir, 'home'), pkg.trust, pkg.path, [
    p.vd.adbAddress,
    p.vd.address,
  ]);
  clearInterval(watch);
  assert.ok(armed, 'the phone reached fastbootd');
  assert.equal(d.faults.dropAtByte, undefined, 'the cable pull happened');
  assert.equal(report.status, 0, `${report.message}\n${report.messages.join('\n')}`);
  assert.ok(
    report.messages.some((m) => /reconnecting/.test(m)),
    report.messages.join('\n'),
  );
  await eventually(async () => p.vd.isUp && d.mode === 'os', 'Android after the update');
  assert.equal(d.bootedSlot, 'b');
  assert.equal(await deviceSha256(p.vd, 'system_b'), pkg.system);
  assert.equal(await deviceSha256(p.vd, 'vendor_b'), pkg.vendor);
});
