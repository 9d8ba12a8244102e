/**
 * Google's fastboot (Debian 29.0.6) against the stock phone with dynamic partitions: the bootloader knows the
 * logical partitions but refuses to write them (naming fastbootd); `reboot fastboot` (fastboot or ADB) enters
 * fastbootd on the same TCP port; logical partitions are created, resized, deleted and flashed (raw and
 * sparse) there, the content checked by the device's hash read back through the extents in super.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fastboot, runTool } from '../phone/helpers.js';
import {
  adbReboot,
  deviceSha256,
  dynamicPhone,
  getvar,
  img2simg,
  MiB,
  rawImage,
  rebooting,
  superEmpty,
  TEST_SUPER_SIZE,
} from './helpers.js';

test('bootloader: is-userspace no, logical partitions listed but refused naming fastbootd', async (t) => {
  const p = await dynamicPhone(t);
  await adbReboot(p, 'bootloader');
  const a = p.vd.address;
  assert.equal(await getvar(a, 'is-userspace'), 'no');
  assert.equal(await getvar(a, 'super-partition-name'), 'super');
  assert.equal(await getvar(a, 'is-logical:system_a'), 'yes');
  assert.equal(await getvar(a, 'is-logical:boot_a'), 'no');
  assert.equal(await getvar(a, 'partition-size:super'), `0x${TEST_SUPER_SIZE.toString(16)}`);
  const img = await rawImage(p.dir, 'system.img', MiB);
  const r = await runTool('fastboot', ['-s', a, 'flash', 'system_b', img.path]);
  assert.notEqual(r.code, 0);
  assert.match(r.err, /fastbootd/);
  const create = await runTool('fastboot', ['-s', a, 'create-logical-partition', 'x_b', '4096']);
  assert.notEqual(create.code, 0);
  assert.match(create.err, /fastbootd/);
});

test('reboot fastboot → fastbootd: create/resize/delete logical partitions, flash system_b raw and sparse', async (t) => {
  const p = await dynamicPhone(t);
  await adbReboot(p, 'bootloader');
  const a = p.vd.address;
  await rebooting(p.vd, () => fastboot(a, 'reboot', 'fastboot'));
  assert.equal(await getvar(a, 'is-userspace'), 'yes');
  assert.equal(await getvar(a, 'snapshot-update-status'), 'none');
  assert.equal(await getvar(a, 'super-partition-name'), 'super');
  assert.equal(await getvar(a, 'partition-size:system_a'), `0x${(16 * MiB).toString(16)}`);

  await fastboot(a, 'create-logical-partition', 'extra_b', String(MiB));
  assert.equal(await getvar(a, 'is-logical:extra_b'), 'yes');
  assert.equal(await getvar(a, 'partition-size:extra_b'), '0x100000');
  await fastboot(a, 'resize-logical-partition', 'extra_b', String(3 * MiB));
  assert.equal(await getvar(a, 'partition-size:extra_b'), '0x300000');
  await fastboot(a, 'delete-logical-partition', 'extra_b');
  const gone = await runTool('fastboot', ['-s', a, 'getvar', 'is-logical:extra_b']);
  assert.match(gone.err, /FAILED|unknown/);

  // Raw: the client resizes system_b to the image (is-logical: yes), then flashes it through its extents.
  const raw = await rawImage(p.dir, 'system.img', 18 * MiB);
  await fastboot(a, 'flash', 'system_b', raw.path);
  assert.equal(await getvar(a, 'partition-size:system_b'), `0x${(18 * MiB).toString(16)}`);
  assert.equal(await deviceSha256(p.vd, 'system_b'), raw.sha256);

  // Sparse (img2simg), smaller than the partition now: resized down, then written.
  const vendor = await rawImage(p.dir, 'vendor.raw', 5 * MiB);
  await img2simg(vendor.path, join(p.dir, 'vendor.img'));
  await fastboot(a, 'flash', 'vendor_b', join(p.dir, 'vendor.img'));
  assert.equal(await deviceSha256(p.vd, 'vendor_b'), vendor.sha256);
  assert.equal(p.vd.device.bootControl.slots.b.unbootable, false);

  // A layout that does not fit is refused by the device.
  const big = await runTool('fastboot', ['-s', a, 'resize-logical-partition', 'system_b', String(200 * MiB)]);
  assert.notEqual(big.code, 0);
  assert.match(big.err, /main_b/);

  await rebooting(p.vd, () => fastboot(a, 'reboot', 'bootloader'));
  assert.equal(await getvar(a, 'is-userspace'), 'no');
  assert.equal(await deviceSha256(p.vd, 'system_b'), raw.sha256);
});

test('adb reboot fastboot enters fastbootd on the fastboot port; reboot returns to Android', async (t) => {
  const p = await dynamicPhone(t);
  await adbReboot(p, 'fastboot');
  assert.equal(p.vd.device.mode, 'fastbootd');
  assert.equal(await getvar(p.vd.address, 'is-userspace'), 'yes');
  await rebooting(p.vd, () => fastboot(p.vd.address, 'reboot'));
  assert.equal(p.vd.device.mode, 'os');
});

test("fastboot wipe-super SUPER_EMPTY: Google's liblp writes the whole super, the phone reads its metadata", async (t) => {
  const p = await dynamicPhone(t);
  await adbReboot(p, 'bootloader');
  const a = p.vd.address;
  // The client builds a full super image from super_empty.img with its own liblp and flashes `super`.
  await fastboot(a, 'wipe-super', await superEmpty(p.dir, ['system', 'vendor', 'odm']));
  const names = p.vd.device.superPartition?.names().sort();
  assert.deepEqual(names, ['odm_a', 'odm_b', 'system_a', 'system_b', 'vendor_a', 'vendor_b']);
  assert.equal(await getvar(a, 'is-logical:odm_b'), 'yes');
  assert.equal(await getvar(a, 'partition-size:system_a'), '0x0');
});
