/**
 * The "Done when" peer: Google's `fastboot update FILE.zip` (Debian 29.0.6) against the stock phone
 * with dynamic partitions, over TCP. The zip is Android-style: android-info.txt, boot.img (Debian's mkbootimg),
 * super_empty.img (Flashline's super codec), sparse system.img/vendor.img (libsparse img2simg).
 *
 * What the client does (AOSP fastboot.cpp FlashAllTool, this version): check android-info.txt requirements,
 * set_active the --slot, flash boot (bootloader), then — because the zip has super_empty.img — `reboot-fastboot`,
 * drop the connection, wait 1 s and reconnect: over TCP its open_device() retries tcp::Connect every 1 ms, so it
 * finds fastbootd back on the same port; then update-super:super, resize every logical partition to 0, resize
 * each to its image and flash it, and reboot. Without --skip-secondary the client also resizes the other slot's
 * logical partitions to 0 (it treats them as "secondary" images it may not have): the running slot's system
 * would be emptied, so the inactive-slot update here passes --skip-secondary. Every logical partition's content is checked by device-side
 * hash (through the extents in super) and the phone boots the updated slot.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { eventually, fastboot, runTool } from '../phone/helpers.js';
import { expectedDynpartTables, prepareDynpartPeer } from '../super/dynpart-peer.js';
import {
  adbReboot,
  deviceSha256,
  dynamicPhone,
  img2simg,
  MiB,
  mkbootimg,
  type Phone,
  rawImage,
  superEmpty,
  zipFiles,
} from './helpers.js';

/** The Android-style images: android-info.txt, boot.img (mkbootimg 2.0.0), super_empty.img, sparse system/vendor. */
async function factoryImages(p: Phone, boot: string) {
  const system = await rawImage(p.dir, 'system.raw', 12 * MiB);
  const vendor = await rawImage(p.dir, 'vendor.raw', 4 * MiB);
  await img2simg(system.path, join(p.dir, 'system.img'));
  await img2simg(vendor.path, join(p.dir, 'vendor.img'));
  const info = join(p.dir, 'android-info.txt');
  await fs.writeFile(info, 'require board=flashline-virtual\nrequire version-bootloader=1.0.0\n');
  const files = {
    'android-info.txt': info,
    'boot.img': boot,
    'super_empty.img': await superEmpty(p.dir, ['system', 'vendor']),
    'system.img': join(p.dir, 'system.img'),
    'vendor.img': join(p.dir, 'vendor.img'),
  };
  return { files, system, vendor };
}

/** The client ends with `reboot` (from fastbootd): Android comes up on slot b, 2.0.0, with the new content. */
async function assertBootedUpdatedSlotB(p: Phone, system: string, vendor: string): Promise<void> {
  const d = p.vd.device;
  await eventually(async () => p.vd.isUp && d.mode === 'os', 'Android after the update');
  assert.equal(d.bootedSlot, 'b');
  assert.equal(d.runningVersion, '2.0.0');
  assert.equal(await deviceSha256(p.vd, 'system_b'), system);
  assert.equal(await deviceSha256(p.vd, 'vendor_b'), vendor);
}

test('fastboot --slot b --skip-secondary update FILE.zip: super updated, system_b/vendor_b written, boots slot b', async (t) => {
  const p = await dynamicPhone(t);
  const boot = await mkbootimg(p.dir, '2.0.0');
  if (!boot) {
    t.skip('/usr/bin/mkbootimg is absent (Debian package mkbootimg)');
    return;
  }
  const { files, system, vendor } = await factoryImages(p, boot);
  const zip = join(p.dir, 'factory.zip');
  await zipFiles(zip, files);

  await adbReboot(p, 'bootloader');
  const systemA = await deviceSha256(p.vd, 'system_a');
  const out = await fastboot(p.vd.address, '--slot', 'b', '--skip-secondary', 'update', zip);
  assert.match(out, /Rebooting into fastboot/);
  assert.match(out, /Updating super partition/);
  await assertBootedUpdatedSlotB(p, system.sha256, vendor.sha256);
  const d = p.vd.device;
  // update-super without wipe keeps the running slot's partitions (and their content); product_b is gone.
  assert.equal(await deviceSha256(p.vd, 'system_a'), systemA);
  assert.deepEqual(d.superPartition?.names().sort(), [
    'product_a',
    'system_a',
    'system_b',
    'vendor_a',
    'vendor_b',
  ]);

  // Debian's make-dynpart-mappings (an independent liblp reader) reads the super the phone holds now and
  // builds the device-mapper tables its metadata implies, for both slots (device-mapper itself is shimmed).
  const md = d.superPartition?.metadata;
  assert.ok(md);
  await p.vd.stop();
  const peer = await prepareDynpartPeer(p.dir);
  if (!peer.available) {
    t.diagnostic(`make-dynpart-mappings not run: ${peer.reason}`);
    return;
  }
  const superFile = join(p.vd.stateDir, 'partitions', 'super.img');
  for (const slot of [0, 1]) {
    const r = await peer.run(superFile, slot);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.tables, expectedDynpartTables(md, slot));
  }
});

test('fastboot flashall with ANDROID_PRODUCT_OUT: the same images, the same result', async (t) => {
  const p = await dynamicPhone(t);
  const boot = await mkbootimg(p.dir, '2.0.0');
  if (!boot) {
    t.skip('/usr/bin/mkbootimg is absent (Debian package mkbootimg)');
    return;
  }
  const { system, vendor } = await factoryImages(p, boot);
  await adbReboot(p, 'bootloader');
  const r = await runTool('fastboot', ['-s', p.vd.address, '--slot', 'b', '--skip-secondary', 'flashall'], {
    ...process.env,
    ANDROID_PRODUCT_OUT: p.dir,
  });
  assert.equal(r.code, 0, r.err);
  await assertBootedUpdatedSlotB(p, system.sha256, vendor.sha256);
});

test('android-info.txt requirements the phone does not meet stop fastboot update before anything is written', async (t) => {
  const p = await dynamicPhone(t);
  const info = join(p.dir, 'android-info.txt');
  await fs.writeFile(info, 'require board=other-phone\n');
  const zip = join(p.dir, 'other.zip');
  await zipFiles(zip, { 'android-info.txt': info, 'super_empty.img': await superEmpty(p.dir, ['system']) });
  await adbReboot(p, 'bootloader');
  const before = p.vd.device.bootControl;
  const r = await runTool('fastboot', ['-s', p.vd.address, 'update', zip]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /requirements not met/);
  assert.deepEqual(p.vd.device.bootControl, before);
  assert.equal(p.vd.device.mode, 'bootloader');
});
