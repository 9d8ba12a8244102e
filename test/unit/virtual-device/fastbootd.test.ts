/**
 * The dynamic-partitions phone's fastbootd at packet level (in-process link): update-super with and without
 * wipe (the running slot's partitions and content survive a merge), refusals of a super_empty.img for another
 * super and of garbage, `getvar all` listing logical partitions, the bootloader refusing them, and a power
 * cut during a logical flash leaving that slot unbootable until it is flashed again.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import type { TestContext } from 'node:test';
import { test } from 'node:test';
import { encodeSuperEmpty, newSuperMetadata } from '../../../main/protocol/fastboot/super/index.js';
import { createDuplexPair } from '../../../virtual-device/in-process.js';
import { serveFastboot, VirtualDevice } from '../../../virtual-device/index.js';
import { KiB, tempDir } from './helpers/fixtures.js';
import { MiniClient } from './helpers/mini-client.js';

const MiB = 1024 * KiB;
const SUPER = 32 * MiB;

async function phone(t: TestContext, into: 'bootloader' | 'fastboot' = 'fastboot') {
  const device = new VirtualDevice({
    profile: 'stock-android',
    stateDir: await tempDir(t),
    product: 'flashline-virtual',
    serial: 'PHONE03',
    hardwareRevision: 'rev-1',
    maxDownloadSize: 16 * MiB,
    maxRetries: 3,
    bootloaderVersion: '1.0.0',
    batteryLevel: 100,
    factoryVersion: '1.0.0',
    faults: {},
    dynamicPartitions: { superSize: SUPER },
  });
  await device.powerOn(into);
  return { device, client: await session(t, device) };
}

async function session(t: TestContext, device: VirtualDevice): Promise<MiniClient> {
  const [host, dev] = createDuplexPair();
  // The link drops when the session ends (as the runner does), e.g. at a power cut.
  const ended = serveFastboot(dev, device).finally(() => dev.destroy());
  const c = new MiniClient(host);
  t.after(async () => {
    c.close();
    await ended;
  });
  await c.handshake();
  return c;
}

function superEmpty(size: number, names: string[]): Uint8Array {
  return encodeSuperEmpty(
    newSuperMetadata({
      size,
      groups: ['main_a', 'main_b'].map((name) => ({ name, maximumSize: 14 * MiB })),
      partitions: ['a', 'b'].flatMap((s) =>
        names.map((n) => ({ name: `${n}_${s}`, group: `main_${s}`, size: 0 })),
      ),
    }),
  );
}

async function send(c: MiniClient, bytes: Uint8Array): Promise<void> {
  const d = await c.download(bytes, bytes.byteLength);
  assert.equal(d.final.type, 'OKAY');
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('fastbootd: getvar is-userspace, super-partition-name, logical partitions in getvar all', async (t) => {
  const { client: c } = await phone(t);
  assert.equal(await c.getvar('is-userspace'), 'yes');
  assert.equal(await c.getvar('super-partition-name'), 'super');
  assert.equal(await c.getvar('has-slot:system'), 'yes');
  assert.equal(await c.getvar('is-logical:system'), 'yes');
  assert.equal(await c.getvar('partition-size:super'), `0x${SUPER.toString(16)}`);
  const all = await c.command('getvar:all');
  assert.ok(all.infos.includes('is-logical:vendor_b:yes'));
  assert.ok(all.infos.includes('is-logical:boot_a:no'));
  assert.ok(all.infos.some((l) => l.startsWith('partition-size:product_a:0x')));
});

test('update-super without wipe keeps the other slot (with content); with wipe the new layout replaces all', async (t) => {
  const { device, client: c } = await phone(t);
  const content = randomBytes(256 * KiB);
  await c.okay(`resize-logical-partition:system_b:${content.byteLength}`);
  await c.flashBytes('system_b', content);
  await send(c, superEmpty(SUPER, ['system', 'vendor']));
  await c.okay('update-super:super');
  const sp = device.superPartition!;
  // Current slot a: its partitions come from the new layout (no space yet); slot b's are kept as they were.
  assert.deepEqual(sp.names().sort(), ['product_b', 'system_a', 'system_b', 'vendor_a', 'vendor_b']);
  assert.equal(await c.getvar('partition-size:system_a'), '0x0');
  assert.equal(await device.partitionSha256('system_b'), sha(content));

  await send(c, superEmpty(SUPER, ['system']));
  await c.okay('update-super:super:wipe');
  assert.deepEqual(sp.names().sort(), ['system_a', 'system_b']);
  assert.equal(await c.getvar('partition-size:system_b'), '0x0');
});

test('update-super refuses a layout for a bigger super and bytes that are not super_empty.img', async (t) => {
  const { client: c } = await phone(t);
  await send(c, superEmpty(2 * SUPER, ['system']));
  const big = await c.command('update-super:super');
  assert.equal(big.final.type, 'FAIL');
  assert.match('message' in big.final ? big.final.message : '', /this device's super is 33554432 bytes/);
  await send(c, randomBytes(8 * KiB));
  const junk = await c.command('update-super:super:wipe');
  assert.match('message' in junk.final ? junk.final.message : '', /not a valid super_empty\.img/);
  const other = await c.command('update-super:system_a');
  assert.match('message' in other.final ? other.final.message : '', /super-partition-name/);
  // Nothing changed.
  assert.equal(await c.getvar('is-logical:product_b'), 'yes');
});

test('the bootloader lists logical partitions but refuses to change them, naming fastbootd', async (t) => {
  const { client: c } = await phone(t, 'bootloader');
  assert.equal(await c.getvar('is-userspace'), 'no');
  assert.equal(await c.getvar('is-logical:system_b'), 'yes');
  await send(c, randomBytes(8 * KiB));
  for (const cmd of ['flash:system_b', 'resize-logical-partition:system_b:0', 'update-super:super']) {
    const r = await c.command(cmd);
    assert.equal(r.final.type, 'FAIL', cmd);
    assert.match('message' in r.final ? r.final.message : '', /should be flashed in fastbootd/, cmd);
  }
});

test('a power cut during a logical flash leaves that slot unbootable until it is flashed again', async (t) => {
  const { device, client: c } = await phone(t);
  const img = randomBytes(2 * MiB);
  await send(c, img);
  device.faults = { powerLoss: { stage: 'flash', at: MiB } };
  const cut = await c.command('flash:system_b').catch(() => null);
  assert.ok(cut === null || cut.final.type !== 'OKAY');
  await device.powerOn('fastboot');
  assert.equal(device.bootControl.slots.b.unbootable, true);
  const c2 = await session(t, device);
  await c2.flashBytes('system_b', img);
  assert.equal(device.bootControl.slots.b.unbootable, false);
  assert.equal(await device.superPartition!.sha256('system_b', img.byteLength), sha(img));
  // erase zeroes the partition through its extents; the slot stays unbootable until it is flashed again.
  await c2.okay('erase:system_b');
  const size = device.superPartition!.sizeOf('system_b');
  assert.equal(await device.partitionSha256('system_b'), sha(Buffer.alloc(size)));
  assert.equal(device.bootControl.slots.b.unbootable, true);
});
