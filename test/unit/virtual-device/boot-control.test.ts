import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { startVirtualDevice } from '../../../virtual-device/index.js';
import {
  image,
  KiB,
  link,
  rebootAndWait,
  SMALL_PARTITIONS,
  startSmallDevice,
  tempDir,
  update,
} from './helpers/fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('a fresh device boots slot a with the factory image and two bootable slots', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  assert.equal(await c.getvar('current-slot'), 'a');
  assert.equal(await c.getvar('running-version'), '1.0.0');
  assert.equal(await c.getvar('slot-unbootable:a'), 'no');
  assert.equal(await c.getvar('slot-unbootable:b'), 'no');
  assert.equal(await c.getvar('rollback-index'), '0');
  assert.equal(await c.getvar('product'), 'flashline-virtual');
  assert.equal(await c.getvar('battery-level'), '100');
  assert.equal(await c.getvar('partition-size:boot'), `0x${(1024 * KiB).toString(16)}`);
  assert.equal(vd.device.bootedSlot, 'a');
});

test('the update flow switches slots; mark-successful raises the rollback index', async (t) => {
  const vd = await startSmallDevice(t);
  await update(vd, await image('2.0.0', 5));
  const c = await link(vd);
  assert.equal(await c.getvar('current-slot'), 'b');
  assert.equal(await c.getvar('running-version'), '2.0.0');
  assert.equal(await c.getvar('slot-successful:b'), 'yes');
  assert.equal(await c.getvar('rollback-index'), '5');
  // An image below the rollback index does not boot (anti-rollback): the device falls back, index stays.
  await update(vd, await image('0.9.0', 3)).catch(() => undefined);
  assert.equal(vd.device.rollbackIndex, 5);
  assert.equal(vd.device.runningVersion, '2.0.0');
  assert.equal(vd.device.bootedSlot, 'b');
  assert.equal(vd.device.bootControl.slots.a.unbootable, true);
});

test('without mark-successful every reboot burns a retry; then the device falls back to the old slot', async (t) => {
  const vd = await startSmallDevice(t, { maxRetries: 2 });
  let c = await link(vd);
  await c.flashBytes('boot_b', await image('2.0.0', 1));
  await c.okay('set_active:b');
  await rebootAndWait(vd, c);
  assert.equal(vd.device.runningVersion, '2.0.0');
  assert.equal(vd.device.bootControl.slots.b.retryCount, 1);
  c = await link(vd);
  await rebootAndWait(vd, c);
  assert.equal(vd.device.bootControl.slots.b.retryCount, 0);
  assert.equal(vd.device.runningVersion, '2.0.0');
  c = await link(vd);
  await rebootAndWait(vd, c);
  assert.equal(vd.device.runningVersion, '1.0.0');
  assert.equal(vd.device.bootedSlot, 'a');
  assert.equal(vd.device.bootControl.slots.b.unbootable, true);
  assert.equal(vd.device.rollbackIndex, 0);
});

test('--bad-boot: a slot that never boots is given up and the other slot runs', async (t) => {
  const vd = await startSmallDevice(t, { faults: { badBoot: ['b'] } });
  let c = await link(vd);
  await c.flashBytes('boot_b', await image('2.0.0', 1));
  await c.okay('set_active:b');
  await rebootAndWait(vd, c);
  c = await link(vd);
  assert.equal(await c.getvar('current-slot'), 'a');
  assert.equal(await c.getvar('running-version'), '1.0.0');
  assert.equal(await c.getvar('slot-unbootable:b'), 'yes');
  assert.equal(await c.getvar('slot-retry-count:b'), '0');
  // The host can see the failed slot and cannot make it active again until it is reflashed.
  const r = await c.command('set_active:b');
  assert.equal(r.final.type, 'FAIL');
});

test('a device is never left with no bootable slot', async (t) => {
  const vd = await startSmallDevice(t, { faults: { badBoot: ['a', 'b'] } });
  // Both slots fail: a is given up, b keeps its flag and the device waits in the bootloader.
  assert.equal(vd.device.mode, 'bootloader');
  const bc = vd.device.bootControl;
  assert.equal(bc.slots.a.unbootable, true);
  assert.equal(bc.slots.b.unbootable, false);
  assert.equal(bc.active, 'b');
  const c = await link(vd);
  assert.equal(await c.getvar('running-version'), 'none');
  assert.equal((await c.command('oem mark-successful')).final.type, 'FAIL');
  // Writing the only bootable slot is refused; writing the other one is fine and makes it bootable.
  const img = await image('3.0.0', 0);
  assert.equal((await c.download(img, img.byteLength)).final.type, 'OKAY');
  const refused = await c.command('flash:boot');
  assert.equal(refused.final.type, 'FAIL');
  assert.match('message' in refused.final ? refused.final.message : '', /not bootable/);
  await c.okay('flash:boot_a');
  assert.equal(vd.device.bootControl.slots.a.unbootable, false);
  assert.equal(await c.sha256('boot_a'), sha(img));
});

test('flashing the active slot moves the active flag away during the write and back after it', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  const img = await image('1.5.0', 0, 200 * KiB);
  await c.flashBytes('boot', img);
  assert.equal(await c.sha256('boot_a'), sha(img));
  const bc = vd.device.bootControl;
  assert.equal(bc.active, 'a');
  assert.equal(bc.slots.a.unbootable, false);
  assert.equal(bc.slots.a.successful, false);
  // The running system's slot was replaced: it cannot be committed before a reboot.
  assert.equal((await c.command('oem mark-successful')).final.type, 'FAIL');
  await rebootAndWait(vd, c);
  assert.equal(vd.device.runningVersion, '1.5.0');
});

test('erase empties a partition and makes its slot unbootable', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  await c.okay('erase:boot_b');
  assert.equal(await c.sha256('boot_b'), sha(new Uint8Array(0)));
  assert.equal(await c.getvar('slot-unbootable:b'), 'yes');
  assert.equal((await c.command('set_active:b')).final.type, 'FAIL');
  await c.okay('erase:misc');
  assert.equal((await c.command('erase:nope')).final.type, 'FAIL');
});

test('storage: free space shrinks with writes; a full device refuses with a reason', async (t) => {
  const vd = await startSmallDevice(t, { capacity: 300 * KiB });
  const c = await link(vd);
  const before = Number(await c.getvar('free-space'));
  assert.equal(before, 300 * KiB - 2 * 4096);
  await c.flashBytes('misc', new Uint8Array(64 * KiB).fill(7));
  assert.equal(Number(await c.getvar('free-space')), before - 64 * KiB);
  const big = await image('9', 0, 512 * KiB);
  assert.equal((await c.download(big, big.byteLength)).final.type, 'OKAY');
  const r = await c.command('flash:system_b');
  assert.equal(r.final.type, 'FAIL');
  assert.match('message' in r.final ? r.final.message : '', /storage full/);
  assert.equal(vd.device.bootControl.slots.b.unbootable, false);
  // Too big for the partition.
  const r2 = await c.command('flash:misc');
  assert.match('message' in r2.final ? r2.final.message : '', /holds/);
});

test('the state directory is the device: a restart comes back as it was', async (t) => {
  const dir = await tempDir(t);
  const opts = { stateDir: dir, tcp: false as const, partitions: SMALL_PARTITIONS, bootDelayMs: 0 };
  const first = await startVirtualDevice({ ...opts, serial: 'SER1', hardwareRevision: 'rev-7' });
  await update(first, await image('2.0.0', 4));
  await first.stop();
  const second = await startVirtualDevice({ ...opts, serial: 'IGNORED' });
  t.after(() => second.stop());
  assert.equal(second.serial, 'SER1');
  assert.equal(second.device.hardwareRevision, 'rev-7');
  assert.equal(second.device.rollbackIndex, 4);
  assert.equal(second.device.runningVersion, '2.0.0');
  assert.equal(second.device.bootControl.active, 'b');
});

test('configurable identity and bootloader variables', async (t) => {
  const vd = await startSmallDevice(t, {
    product: 'router-x',
    bootloaderVersion: '4.2.0',
    batteryLevel: 37,
    hardwareRevision: 'evt2',
  });
  const c = await link(vd);
  assert.equal(await c.getvar('product'), 'router-x');
  assert.equal(await c.getvar('version-bootloader'), '4.2.0');
  assert.equal(await c.getvar('battery-level'), '37');
  assert.equal(await c.getvar('hw-revision'), 'evt2');
  assert.equal(await c.getvar('serialno'), vd.serial);
  await assert.rejects(startSmallDevice(t, { batteryLevel: 101 }), /battery/);
  await assert.rejects(startSmallDevice(t, { maxDownloadSize: 10 }), /max-download-size/);
});

test('reboot-bootloader comes back in fastboot mode without booting or burning a retry', async (t) => {
  const vd = await startSmallDevice(t);
  let c = await link(vd);
  await c.flashBytes('boot_b', await image('2.0.0', 1));
  await c.okay('set_active:b');
  await rebootAndWait(vd, c, 'reboot-bootloader');
  c = await link(vd);
  assert.equal(await c.getvar('running-version'), 'none');
  assert.equal(await c.getvar('mode'), 'bootloader');
  assert.equal(await c.getvar('slot-retry-count:b'), '3');
  await rebootAndWait(vd, c);
  assert.equal(vd.device.runningVersion, '2.0.0');
  assert.equal(vd.device.bootControl.slots.b.retryCount, 2);
});
