/**
 * The stock-android profile without a network: its simulated Android (properties, shell, bootctl, reboot
 * targets, boot_completed and the self-commit) and its bootloader (a stock variable set, no oem commands).
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildBootImageV3 } from '../../../main/protocol/android/boot-image.js';
import { splitWords } from '../../../virtual-device/android-shell.js';
import { rebootInto } from '../../../virtual-device/android-side.js';
import { createDuplexPair, serveFastboot, VirtualDevice } from '../../../virtual-device/index.js';
import type { VirtualDeviceHandle } from '../../../virtual-device/runner.js';
import { KiB, SMALL_PARTITIONS, startSmallDevice, tempDir } from './helpers/fixtures.js';
import { MiniClient } from './helpers/mini-client.js';

const FAST = { bootCompletedMs: 5, markSuccessfulMs: 5 };

/** Poll (bounded) until `cond` holds; tests never assert timings, only that it happens. */
async function eventually(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !cond(); i++) await sleep(10);
  assert.ok(cond(), `never happened: ${what}`);
}

async function phone(
  t: { after: (fn: () => Promise<void>) => void },
  android = FAST,
): Promise<VirtualDeviceHandle> {
  return startSmallDevice(t, { profile: 'stock-android', android, serial: 'PHONE01' });
}

function sh(vd: VirtualDeviceHandle, command: string) {
  const android = vd.android;
  assert.ok(android);
  return android.shell(command);
}

test('a stock phone starts in Android: ADB offered, fastboot refused with the way to the bootloader', async (t) => {
  const vd = await phone(t);
  assert.equal(vd.profile, 'stock-android');
  assert.equal(vd.device.mode, 'os');
  assert.match(vd.adbAddress ?? '', /^adb:127\.0\.0\.1:\d+$/);
  assert.throws(() => vd.connect(), /running Android: fastboot answers only in the bootloader/);
  const ref = await startSmallDevice(t);
  assert.equal(ref.adbAddress, null);
  assert.throws(() => ref.connectAdb(), /no ADB/);
});

test('properties come from the booted slot and the secure element; boot_completed turns 1', async (t) => {
  const vd = await phone(t, { bootCompletedMs: 50, markSuccessfulMs: 10_000 });
  const android = vd.android!;
  assert.equal(android.properties().get('sys.boot_completed'), '0');
  await eventually(() => android.bootCompleted, 'boot_completed');
  const p = android.properties();
  assert.equal(p.get('sys.boot_completed'), '1');
  assert.equal(p.get('ro.boot.slot_suffix'), '_a');
  assert.equal(p.get('ro.build.version.incremental'), '1.0.0');
  assert.equal(p.get('ro.build.version.release'), '1.0.0');
  assert.equal(p.get('ro.serialno'), 'PHONE01');
  assert.equal(p.get('ro.boot.serialno'), 'PHONE01');
  assert.equal(p.get('ro.product.device'), 'flashline-virtual');
  assert.equal(p.get('ro.build.ab_update'), 'true');
  assert.match(
    p.get('ro.build.fingerprint') ?? '',
    /^flashline\/flashline-virtual\/flashline-virtual:1\.0\.0\/.+\/1\.0\.0:user\/release-keys$/,
  );
  assert.deepEqual(Object.keys(android.bannerProperties()).sort(), [
    'ro.product.device',
    'ro.product.model',
    'ro.product.name',
  ]);
  assert.equal(android.state(), 'device');
});

test('shell: getprop, bootctl, echo, exit; unknown commands exit 127', async (t) => {
  const vd = await phone(t);
  assert.deepEqual(sh(vd, 'getprop ro.boot.slot_suffix'), { stdout: '_a\n', exitCode: 0 });
  assert.equal(sh(vd, "getprop 'ro.no.such' fallback").stdout, 'fallback\n');
  assert.equal(sh(vd, 'getprop ro.no.such').stdout, '\n');
  assert.match(String(sh(vd, 'getprop').stdout), /^\[ro\.boot\.slot_suffix\]: \[_a\]$/m);
  assert.equal(sh(vd, 'bootctl get-current-slot').stdout, '0\n');
  assert.equal(sh(vd, 'bootctl get-suffix 1').stdout, '_b\n');
  assert.equal(sh(vd, 'bootctl get-number-slots').stdout, '2\n');
  assert.equal(sh(vd, 'bootctl is-slot-marked-successful 0').exitCode, 0);
  assert.equal(sh(vd, 'bootctl is-slot-marked-successful 7').exitCode, 1);
  assert.equal(sh(vd, 'echo "hello  there" x').stdout, 'hello  there x\n');
  assert.equal(sh(vd, 'exit 3').exitCode, 3);
  const unknown = sh(vd, 'pm list packages');
  assert.equal(unknown.exitCode, 127);
  assert.match(unknown.stderr ?? '', /pm: inaccessible or not found/);
  assert.deepEqual(splitWords(`a "b c"'d' e`), ['a', 'b cd', 'e']);
  assert.equal(splitWords('echo "open'), null);
});

test('reboot targets: Android and the bootloader; fastbootd, recovery and EDL are refused clearly', () => {
  assert.equal(rebootInto(''), 'os');
  assert.equal(rebootInto('bootloader'), 'bootloader');
  for (const target of ['fastboot', 'recovery', 'edl'])
    assert.throws(() => rebootInto(target), /not simulated by the virtual phone/);
});

test('the phone commits a freshly booted slot by itself; a bad boot falls back to the old slot', async (t) => {
  const vd = await phone(t);
  const d = vd.device;
  await d.exclusive(() => d.setActive('b'));
  await vd.powerCut();
  assert.equal(d.bootedSlot, 'b');
  assert.equal(d.bootControl.slots.b.successful, false);
  await eventually(() => d.bootControl.slots.b.successful, 'slot b marked successful');
  assert.equal(vd.android!.shell('bootctl is-slot-marked-successful 1').exitCode, 0);

  d.faults = { badBoot: ['a'] };
  await d.exclusive(() => d.setActive('a'));
  await vd.powerCut();
  assert.equal(d.bootedSlot, 'b');
  assert.equal(vd.android!.properties().get('ro.boot.slot_suffix'), '_b');
  assert.equal(d.bootControl.slots.a.unbootable, true);
});

test('an Android boot image gives the version and the security patch level', async (t) => {
  const vd = await phone(t);
  const d = vd.device;
  const img = buildBootImageV3({
    kernel: Buffer.alloc(8 * KiB, 1),
    ramdisk: Buffer.alloc(KiB, 2),
    osVersion: { major: 2, minor: 1, patch: 0 },
    osPatchLevel: { year: 2026, month: 11 },
  });
  // Written as a flash would leave it (the model's own flash path is covered by the fastboot tests).
  await fs.writeFile(d.store.partitionPath('boot_b'), img);
  await d.exclusive(() => d.setActive('b'));
  await vd.powerCut();
  const p = vd.android!.properties();
  assert.equal(p.get('ro.boot.slot_suffix'), '_b');
  assert.equal(p.get('ro.build.version.incremental'), '2.1.0');
  assert.equal(p.get('ro.build.version.security_patch'), '2026-11-01');
});

test("the stock bootloader: a real bootloader's variables, no oem commands, no fastbootd", async (t) => {
  const device = new VirtualDevice({
    profile: 'stock-android',
    stateDir: await tempDir(t),
    product: 'flashline-virtual',
    serial: 'PHONE02',
    hardwareRevision: 'rev-1',
    partitions: SMALL_PARTITIONS,
    maxDownloadSize: 1024 * KiB,
    maxRetries: 3,
    bootloaderVersion: '1.0.0',
    batteryLevel: 100,
    factoryVersion: '1.0.0',
    faults: {},
  });
  await device.powerOn('bootloader');
  const [host, dev] = createDuplexPair();
  const ended = serveFastboot(dev, device);
  const c = new MiniClient(host);
  t.after(async () => {
    c.close();
    await ended;
  });
  await c.handshake();
  assert.equal(await c.getvar('current-slot'), 'a');
  assert.equal(await c.getvar('serialno'), 'PHONE02');
  assert.equal(await c.getvar('is-userspace'), 'no');
  assert.equal(await c.getvar('battery-soc-ok'), 'yes');
  assert.equal(await c.getvar('slot-successful:a'), 'yes');
  for (const name of [
    'rollback-index',
    'running-version',
    'booted-slot',
    'mode',
    'free-space',
    'battery-level',
  ])
    assert.equal((await c.command(`getvar:${name}`)).final.type, 'FAIL', name);
  const all = await c.command('getvar:all');
  assert.ok(all.infos.includes('product:flashline-virtual'));
  assert.ok(!all.infos.some((l) => l.startsWith('rollback-index')));
  const oem = await c.command('oem sha256 boot_a');
  assert.deepEqual(oem.final, { type: 'FAIL', message: "unknown command 'oem sha256 boot_a'" });
  const fastbootd = await c.command('reboot-fastboot');
  assert.equal(fastbootd.final.type, 'FAIL');
  assert.match('message' in fastbootd.final ? fastbootd.final.message : '', /issue #13/);
});
