/**
 * The `sink` profile: Google's fastboot and Flashline's engine flash it like the reference device, it keeps
 * no data (partition files hold the image header and are otherwise holes), boots what it was given (version
 * from the header) and refuses a device-side hash.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { type TestContext, test } from 'node:test';
import { promisify } from 'node:util';
import {
  makeVirtualImage,
  startVirtualDevice,
  type VirtualDeviceHandle,
} from '../../../virtual-device/index.js';
import { tempDir } from '../../unit/virtual-device/helpers/fixtures.js';
import { flashRig, tempDir as flashTemp } from '../flash/helpers.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;

async function fastboot(vd: VirtualDeviceHandle, ...args: string[]): Promise<string> {
  const { stdout, stderr } = await run('fastboot', ['-s', vd.address, ...args], { timeout: 120_000 });
  return `${stdout}${stderr}`;
}

async function sink(t: TestContext): Promise<VirtualDeviceHandle> {
  const vd = await startVirtualDevice({ profile: 'sink', bootDelayMs: 50, maxDownloadSize: 8 * MiB });
  t.after(() => vd.stop());
  return vd;
}

async function image(dir: string, size: number, version: string): Promise<string> {
  const path = join(dir, `boot-${version}.img`);
  await pipeline(
    makeVirtualImage({ size, version, rollbackIndex: 1, seed: version }),
    createWriteStream(path),
  );
  return path;
}

test("Google's fastboot flashes a sink in pieces; it boots the new version and kept no data", async (t) => {
  const dir = await tempDir(t);
  const vd = await sink(t);
  const img = await image(dir, 20 * MiB, '3.1.4');
  // 20 MiB > max-download-size 8 MiB: the client splits it, as it does for a real device.
  const out = await fastboot(vd, 'flash', 'boot_b', img);
  assert.match(out, /OKAY/);
  assert.match(await fastboot(vd, 'getvar', 'discards-data'), /discards-data: yes/);
  await fastboot(vd, 'set_active', 'b');
  await fastboot(vd, 'reboot');
  await new Promise((r) => setTimeout(r, 300));
  assert.match(await fastboot(vd, 'getvar', 'running-version'), /running-version: 3\.1\.4/);
  const st = await fs.stat(vd.device.store.partitionPath('boot_b'));
  assert.ok(st.size > 0 && st.blocks * 512 < MiB, `partition file holds ${st.blocks * 512} bytes on disk`);
  await assert.rejects(fastboot(vd, 'oem', 'sha256', 'boot_b'), /sink device: it discards/);
});

test('the engine runs a whole job against sinks: written, switched, committed; device hash "not available"', async () => {
  const tmp = flashTemp('flashline-sink-it-');
  try {
    const { reports, devices } = await flashRig(join(tmp.dir, 'h'), {
      devices: 2,
      device: { profile: 'sink' },
    });
    for (const [i, r] of reports.entries()) {
      assert.equal(r.status, 0, r.message);
      assert.equal(r.deviceVerification, 'not-available');
      assert.equal(r.device.versionAfter, '2.0.0');
      assert.equal(devices[i]!.active, 'b');
      assert.equal(devices[i]!.running, '2.0.0');
    }
  } finally {
    tmp.cleanup();
  }
});
