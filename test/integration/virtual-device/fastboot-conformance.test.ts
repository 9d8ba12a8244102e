/**
 * Google's fastboot client (Debian package `fastboot`) is the judge: it talks to the virtual device over
 * TCP; partition content is checked with `fastboot oem sha256` against sha256 of the source (or of
 * `simg2img` output for sparse sources, made by libsparse's `img2simg`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import { startVirtualDevice, type VirtualDeviceHandle } from '../../../virtual-device/index.js';
import { tempDir } from '../../unit/virtual-device/helpers/fixtures.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

async function fastboot(vd: VirtualDeviceHandle, ...args: string[]): Promise<string> {
  // The client prints to stderr; a bounded timeout because it waits forever for an absent device.
  const { stdout, stderr } = await run('fastboot', ['-s', vd.address, ...args], { timeout: 120_000 });
  return `${stdout}${stderr}`;
}

async function oemSha(vd: VirtualDeviceHandle, partition: string): Promise<string> {
  const out = await fastboot(vd, 'oem', 'sha256', partition);
  const m = /\(bootloader\) ([0-9a-f]{64})/.exec(out);
  assert.ok(m, `oem sha256 output: ${out}`);
  return m[1]!;
}

async function fileSha(path: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest('hex');
}

async function device(t: TestContext, maxDownloadSize?: number): Promise<VirtualDeviceHandle> {
  const vd = await startVirtualDevice({ bootDelayMs: 50, maxDownloadSize });
  t.after(() => vd.stop());
  return vd;
}

/** A 24 MiB raw image with random, zero and patterned regions (so img2simg emits RAW, FILL and DONT_CARE). */
async function mixedImage(dir: string): Promise<string> {
  const path = join(dir, 'mixed.raw');
  const parts: Buffer[] = [];
  for (let i = 0; i < 24; i++) {
    if (i % 3 === 0) parts.push(randomBytes(MiB));
    else if (i % 3 === 1) parts.push(Buffer.alloc(MiB));
    else parts.push(Buffer.alloc(MiB, Buffer.from([0xab, 0xcd, 0xef, 0x01])));
  }
  await fs.writeFile(path, Buffer.concat(parts));
  return path;
}

test('getvar all lists every variable the client asks in its flows', async (t) => {
  const vd = await device(t);
  const out = await fastboot(vd, 'getvar', 'all');
  for (const name of [
    'version',
    'version-bootloader',
    'version-baseband',
    'product',
    'serialno',
    'secure',
    'unlocked',
    'current-slot',
    'slot-count',
    'has-slot:boot',
    'slot-successful:a',
    'slot-unbootable:b',
    'slot-retry-count:a',
    'max-download-size',
    'partition-size:boot_a',
    'partition-type:system_b',
    'is-logical:userdata',
    'is-userspace',
    'snapshot-update-status',
    'rollback-index',
    'free-space',
    'running-version',
    'hw-revision',
    'battery-level',
  ]) {
    assert.match(out, new RegExp(`\\(bootloader\\) ${name}:`), `getvar all lists ${name}`);
  }
  assert.match(await fastboot(vd, 'getvar', 'serialno'), new RegExp(`serialno: ${vd.serial}`));
});

test('flash raw images: explicit slot, current slot, --slot other; set_active; erase', async (t) => {
  const vd = await device(t);
  const dir = await tempDir(t);
  const img = join(dir, 'random64.img');
  await fs.writeFile(img, randomBytes(64 * MiB));
  const want = await fileSha(img);

  await fastboot(vd, 'flash', 'boot_a', img);
  assert.equal(await oemSha(vd, 'boot_a'), want);

  const small = join(dir, 'small.img');
  await fs.writeFile(small, randomBytes(3 * MiB + 17));
  await fastboot(vd, 'flash', 'boot', small);
  assert.equal(await oemSha(vd, 'boot_a'), await fileSha(small), 'flash boot writes the current slot');
  assert.equal(vd.device.bootControl.active, 'a');

  await fastboot(vd, '--slot', 'other', 'flash', 'boot', img);
  assert.equal(await oemSha(vd, 'boot_b'), want, '--slot other writes slot b');

  await fastboot(vd, 'set_active', 'b');
  assert.match(await fastboot(vd, 'getvar', 'current-slot'), /current-slot: b/);

  await fastboot(vd, 'erase', 'system_a');
  assert.equal(await oemSha(vd, 'system_a'), createHash('sha256').digest('hex'));

  // Unknown things fail with a reason the client prints.
  await assert.rejects(fastboot(vd, 'flash', 'nonexistent', small), /unknown partition/);
  await assert.rejects(fastboot(vd, 'oem', 'frobnicate'), /unknown oem command/);

  // reboot: the device goes away, boots slot b (raw random data: version unknown), answers again.
  const up = once(vd, 'up');
  await fastboot(vd, 'reboot');
  await up;
  assert.match(await fastboot(vd, 'getvar', 'running-version'), /running-version: unknown/);
});

test('sparse images from img2simg, whole and split by a small max-download-size', async (t) => {
  const dir = await tempDir(t);
  const raw = await mixedImage(dir);
  const sparse = join(dir, 'mixed.simg');
  await run('img2simg', [raw, sparse]);
  const expanded = join(dir, 'expanded.raw');
  await run('simg2img', [sparse, expanded]);
  const want = await fileSha(expanded);
  assert.ok((await fs.stat(sparse)).size < (await fs.stat(raw)).size, 'img2simg made a sparse file');

  const vd = await device(t);
  await fastboot(vd, 'flash', 'system_b', sparse);
  assert.equal(await oemSha(vd, 'system_b'), want);

  const small = await device(t, 2 * MiB);
  const out = await fastboot(small, 'flash', 'system_a', sparse);
  assert.match(out, /Sending sparse 'system_a' 2\//, 'the client split the image');
  assert.equal(await oemSha(small, 'system_a'), want);
  // A raw image larger than max-download-size: the client converts it to sparse pieces itself.
  await fastboot(small, 'flash', 'vendor_b', raw);
  assert.equal(await oemSha(small, 'vendor_b'), await fileSha(raw));
});
