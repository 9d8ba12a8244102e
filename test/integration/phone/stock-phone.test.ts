/**
 * The stock-android virtual device over real TCP, as the engine meets it: it starts in Android (fastboot
 * refused, ADB answers — Flashline's ADB client here), goes to the bootloader on `reboot:bootloader` (Google's
 * fastboot answers, ADB refused), boots a freshly flashed slot and commits it by itself, and falls back to
 * the old slot when the new one does not boot.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import { type TestContext, test } from 'node:test';
import {
  type AdbConnection,
  AdbUnauthorizedError,
  loadAdbKey,
  openAdb,
} from '../../../main/protocol/adb/index.js';
import {
  makeVirtualImage,
  startVirtualDevice,
  type VirtualDeviceHandle,
} from '../../../virtual-device/index.js';
import { SMALL_PARTITIONS, tempDir } from '../../unit/virtual-device/helpers/fixtures.js';
import { eventually, fastboot, probeTcp, runTool } from './helpers.js';

async function adb(vd: VirtualDeviceHandle, keyDir: string): Promise<AdbConnection> {
  assert.ok(vd.adbAddress);
  return openAdb(vd.adbAddress, { keyDir, timeoutMs: 10_000 });
}

/** Run `step` (which reboots the device) and wait until it is back up. */
async function rebooting(vd: VirtualDeviceHandle, step: () => Promise<unknown>): Promise<void> {
  const up = once(vd, 'up');
  await step();
  await up;
}

async function shell(vd: VirtualDeviceHandle, keyDir: string, command: string) {
  const c = await adb(vd, keyDir);
  try {
    return await c.shell(command, { timeoutMs: 10_000 });
  } finally {
    await c.close();
  }
}

/** A Flashline virtual boot image of `version` (rollback index 1), as a file. */
async function virtualImage(dir: string, version: string): Promise<string> {
  const img = join(dir, `boot-${version}.img`);
  await fs.writeFile(img, await buffer(makeVirtualImage({ version, rollbackIndex: 1, size: 256 * 1024 })));
  return img;
}

/** From the bootloader: flash `img` to `slot`, make it active, boot Android. */
async function update(vd: VirtualDeviceHandle, img: string, slot: 'a' | 'b') {
  await fastboot(vd.address, 'flash', `boot_${slot}`, img);
  await fastboot(vd.address, 'set_active', slot);
  await rebooting(vd, () => fastboot(vd.address, 'reboot'));
}

async function phone(t: TestContext): Promise<{ vd: VirtualDeviceHandle; dir: string; keyDir: string }> {
  const dir = await tempDir(t);
  const vd = await startVirtualDevice({
    profile: 'stock-android',
    partitions: SMALL_PARTITIONS,
    bootDelayMs: 100,
    android: { bootCompletedMs: 100, markSuccessfulMs: 200 },
  });
  t.after(() => vd.stop());
  return { vd, dir, keyDir: join(dir, 'adb') };
}

test('starts in Android: fastboot refused, ADB answers with the phone properties', async (t) => {
  const { vd, keyDir } = await phone(t);
  assert.match(vd.adbAddress ?? '', /^adb:127\.0\.0\.1:\d+$/);
  assert.equal(await probeTcp(vd.port), 'ECONNREFUSED');
  const c = await adb(vd, keyDir);
  t.after(() => c.close());
  assert.equal(c.banner.state, 'device');
  assert.equal(c.banner.properties['ro.product.device'], 'flashline-virtual');
  assert.equal(await c.getprop('ro.serialno'), vd.serial);
  assert.equal(await c.getprop('ro.boot.slot_suffix'), '_a');
  assert.equal(await c.getprop('ro.build.version.incremental'), '1.0.0');
  await eventually(async () => (await c.getprop('sys.boot_completed')) === '1', 'sys.boot_completed=1');
  const missing = await c.shell('nosuch');
  assert.equal(missing.exitCode, 127);
});

test('reboot:bootloader → fastboot answers (ADB refused); fastboot reboot → Android; the new slot commits itself', async (t) => {
  const { vd, dir, keyDir } = await phone(t);
  const c = await adb(vd, keyDir);
  await rebooting(vd, () => c.reboot('bootloader'));
  await c.close();
  assert.match(await fastboot(vd.address, 'getvar', 'current-slot'), /current-slot: a/);
  assert.equal(await probeTcp(vd.adbPort), 'ECONNREFUSED');
  assert.match(await fastboot(vd.address, 'getvar', 'is-userspace'), /is-userspace: no/);
  await update(vd, await virtualImage(dir, '2.0.0'), 'b');
  assert.equal(await probeTcp(vd.port), 'ECONNREFUSED');
  assert.equal((await shell(vd, keyDir, 'getprop ro.boot.slot_suffix')).stdout, '_b\n');
  assert.equal((await shell(vd, keyDir, 'getprop ro.build.version.incremental')).stdout, '2.0.0\n');
  await eventually(
    async () => (await shell(vd, keyDir, 'bootctl is-slot-marked-successful 1')).exitCode === 0,
    'slot b marked successful by the phone',
  );
  assert.equal(vd.device.rollbackIndex, 1);
});

test('--bad-boot: the new slot does not boot, the phone falls back to the old slot in Android', async (t) => {
  const { vd, dir, keyDir } = await phone(t);
  vd.device.faults = { badBoot: ['b'] };
  const c = await adb(vd, keyDir);
  await rebooting(vd, () => c.reboot('bootloader'));
  await c.close();
  await update(vd, await virtualImage(dir, '2.0.0'), 'b');
  assert.equal((await shell(vd, keyDir, 'getprop ro.boot.slot_suffix')).stdout, '_a\n');
  assert.equal((await shell(vd, keyDir, 'getprop ro.build.version.incremental')).stdout, '1.0.0\n');
  assert.equal((await shell(vd, keyDir, 'bootctl is-slot-marked-successful 1')).exitCode, 1);
  assert.equal(vd.device.bootControl.slots.b.unbootable, true);
});

test("with authorized keys that are not this computer's, the phone refuses it: unauthorized, with the remedy", async (t) => {
  const dir = await tempDir(t);
  await loadAdbKey(join(dir, 'other'));
  const vd = await startVirtualDevice({
    profile: 'stock-android',
    partitions: SMALL_PARTITIONS,
    adbAuthorizedKeys: [await fs.readFile(join(dir, 'other', 'adbkey.pub'), 'utf8')],
  });
  t.after(() => vd.stop());
  await assert.rejects(
    openAdb(vd.adbAddress!, { keyDir: join(dir, 'mine'), timeoutMs: 10_000, authWaitMs: 500 }),
    (err: unknown) => err instanceof AdbUnauthorizedError && /Allow USB debugging/.test(err.remedy),
  );
  // The owner's own computer is accepted.
  const c = await openAdb(vd.adbAddress!, { keyDir: join(dir, 'other'), timeoutMs: 10_000 });
  assert.equal(await c.getprop('ro.serialno'), vd.serial);
  await c.close();
});

test("a boot image made by Debian's mkbootimg gives the phone its version and security patch", async (t) => {
  if (!existsSync('/usr/bin/mkbootimg')) {
    t.skip('/usr/bin/mkbootimg is absent (Debian package mkbootimg; .ci/run installs it)');
    return;
  }
  const { vd, dir, keyDir } = await phone(t);
  const img = join(dir, 'android-boot.img');
  await fs.writeFile(join(dir, 'kernel'), Buffer.alloc(64 * 1024, 1));
  await fs.writeFile(join(dir, 'ramdisk'), Buffer.alloc(4096, 2));
  const made = await runTool('/usr/bin/mkbootimg', [
    ...['--kernel', join(dir, 'kernel'), '--ramdisk', join(dir, 'ramdisk')],
    ...['--os_version', '2.1.0', '--os_patch_level', '2026-11', '--header_version', '3', '-o', img],
  ]);
  assert.equal(made.code, 0, made.err);
  const c = await adb(vd, keyDir);
  await rebooting(vd, () => c.reboot('bootloader'));
  await c.close();
  await update(vd, img, 'b');
  assert.equal((await shell(vd, keyDir, 'getprop ro.build.version.incremental')).stdout, '2.1.0\n');
  assert.equal((await shell(vd, keyDir, 'getprop ro.build.version.security_patch')).stdout, '2026-11-01\n');
  assert.equal((await shell(vd, keyDir, 'getprop ro.boot.slot_suffix')).stdout, '_b\n');
});
