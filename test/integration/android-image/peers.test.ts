/**
 * The "Done when" for the images technicians receive, against the stock-android virtual phone with
 * dynamic partitions (two phones, same kind): one zip from `make-android-image`
 *   1. Google's `fastboot --slot b --skip-secondary update FILE.zip` (Debian 29.0.6): super updated, system_b
 *      and vendor_b written, the phone boots slot b running the zip's version;
 *   2. `flashline pack --from-android-image FILE.zip` + `flashline flash`: ends 0, boots slot b on the same
 *      version, and system_b/vendor_b hold the same bytes as after Google's client (device-side hashes).
 * The phone's dynamic partitions come from the fastbootd work (`startVirtualDevice({ dynamicPartitions })`);
 * on a tree without it the test is skipped and says so.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { packAndroidImage } from '../../../main/package/android-image/index.js';
import { makeAndroidImage } from '../../../main/package/android-image/make.js';
import { generateKeyPair, loadSigningPrivateKey, writeKeyPair } from '../../../main/package/index.js';
import { openAdb } from '../../../main/protocol/adb/index.js';
import { startVirtualDevice, type VirtualDeviceHandle } from '../../../virtual-device/index.js';
import { tempDir } from '../../unit/virtual-device/helpers/fixtures.js';
import { eventually, fastboot } from '../phone/helpers.js';

const MiB = 1024 * 1024;
const SUPER_SIZE = 64 * MiB;
const PRODUCT = 'flashline-virtual';
const VERSION = '2.5.0';
const bin = fileURLToPath(new URL('../../../bin/flashline.js', import.meta.url));
const execFileP = promisify(execFile);

async function dynamicPhone(t: TestContext, dir: string): Promise<VirtualDeviceHandle | undefined> {
  // Built apart so that a tree whose virtual device predates dynamic partitions still compiles.
  const options: Parameters<typeof startVirtualDevice>[0] & Record<string, unknown> = {
    profile: 'stock-android',
    dynamicPartitions: { superSize: SUPER_SIZE },
    stateDir: join(dir, 'state'),
    bootDelayMs: 100,
    android: { bootCompletedMs: 100, markSuccessfulMs: 200 },
  };
  const vd = await startVirtualDevice(options);
  t.after(() => vd.stop());
  if (!('superPartition' in vd.device)) {
    t.skip('the virtual phone has no dynamic partitions on this tree (fastbootd work not merged)');
    return undefined;
  }
  return vd;
}

const sha = (vd: VirtualDeviceHandle, partition: string) =>
  vd.device.exclusive(() => vd.device.partitionSha256(partition));

async function image(dir: string): Promise<string> {
  const zip = join(dir, 'acme.zip');
  await makeAndroidImage({
    product: PRODUCT,
    version: VERSION,
    outPath: zip,
    superSize: SUPER_SIZE,
    systemSize: 8 * MiB,
    vendorSize: 4 * MiB,
  });
  return zip;
}

test('one make-android-image zip: Google fastboot update and Flashline pack + flash write the same, boot slot b', async (t) => {
  if (!existsSync('/usr/bin/fastboot')) {
    t.skip('/usr/bin/fastboot is absent (Debian package fastboot)');
    return;
  }
  const dir = await tempDir(t);
  const zip = await image(dir);

  // 1. Google's client.
  const google = await dynamicPhone(t, join(dir, 'google'));
  if (!google) return;
  assert.ok(google.adbAddress);
  const adb = await openAdb(google.adbAddress, { keyDir: join(dir, 'adb'), timeoutMs: 10_000 });
  const up = once(google, 'up');
  await adb.reboot('bootloader');
  await up;
  await adb.close();
  const out = await fastboot(google.address, '--slot', 'b', '--skip-secondary', 'update', zip);
  assert.match(out, /Updating super partition/);
  const g = google.device;
  await eventually(async () => google.isUp && g.mode === 'os', 'Android after fastboot update');
  assert.equal(g.bootedSlot, 'b');
  assert.equal(g.runningVersion, VERSION);
  const want = { system: await sha(google, 'system_b'), vendor: await sha(google, 'vendor_b') };

  // 2. Flashline: pack the same zip, flash it from Android (the engine reboots the phone as it needs).
  const phone = await dynamicPhone(t, join(dir, 'flashline'));
  if (!phone) return;
  await writeKeyPair(join(dir, 'release'), generateKeyPair({ products: [PRODUCT] }));
  await fs.mkdir(join(dir, 'trust'));
  await fs.copyFile(join(dir, 'release.pub'), join(dir, 'trust', 'release.pub'));
  const key = await loadSigningPrivateKey(join(dir, 'release.key'));
  const { pack } = await packAndroidImage({ input: zip, outPath: join(dir, 'acme.flp'), keys: [key] });
  assert.deepEqual(
    pack.manifest.images.map((i) => [i.partition, i.kind ?? 'partition']),
    [
      ['boot', 'partition'],
      ['super', 'super-layout'],
      ['system', 'logical'],
      ['vendor', 'logical'],
    ],
  );
  assert.ok(phone.adbAddress);
  const args = [bin, 'flash', pack.path, '--trust', join(dir, 'trust'), '--json'];
  args.push('--device', phone.address, '--device', phone.adbAddress);
  const flashed = await execFileP(process.execPath, args, {
    env: { ...process.env, FLASHLINE_HOME: join(dir, 'home') },
    timeout: 240_000,
  }).then(
    (r) => ({ code: 0, out: r.stdout + r.stderr }),
    (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
  );
  assert.equal(flashed.code, 0, flashed.out.slice(-3000));
  const d = phone.device;
  await eventually(async () => phone.isUp && d.mode === 'os', 'Android after flashline flash');
  assert.equal(d.bootedSlot, 'b');
  assert.equal(d.runningVersion, VERSION);
  assert.equal(await sha(phone, 'system_b'), want.system);
  assert.equal(await sha(phone, 'vendor_b'), want.vendor);
});
