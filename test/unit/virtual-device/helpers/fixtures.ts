import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buffer } from 'node:stream/consumers';
import {
  makeVirtualImage,
  startVirtualDevice,
  type VirtualDeviceHandle,
  type VirtualDeviceOptions,
} from '../../../../virtual-device/index.js';
import { MiniClient } from './mini-client.js';

export const KiB = 1024;

/** Small partitions keep the tests fast; boot is big enough for the header plus a payload. */
export const SMALL_PARTITIONS = [
  { name: 'boot', size: 1024 * KiB, slotted: true },
  { name: 'system', size: 4096 * KiB, slotted: true },
  { name: 'misc', size: 64 * KiB, slotted: false },
];

export async function tempDir(t: { after: (fn: () => Promise<void>) => void }): Promise<string> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'flashline-vd-test-'));
  t.after(() => fs.rm(dir, { recursive: true, force: true }));
  return dir;
}

export async function startSmallDevice(
  t: { after: (fn: () => Promise<void>) => void },
  options: VirtualDeviceOptions = {},
): Promise<VirtualDeviceHandle> {
  const vd = await startVirtualDevice({
    tcp: false,
    partitions: SMALL_PARTITIONS,
    bootDelayMs: 0,
    maxDownloadSize: 2048 * KiB,
    ...options,
  });
  t.after(() => vd.stop());
  return vd;
}

export async function link(vd: VirtualDeviceHandle): Promise<MiniClient> {
  await vd.whenUp();
  const c = new MiniClient(vd.connect());
  await c.handshake();
  return c;
}

export async function image(version: string, rollbackIndex: number, size = 64 * KiB): Promise<Buffer> {
  return buffer(makeVirtualImage({ version, rollbackIndex, size }));
}

/** The update flow the flash engine runs: write the other slot, switch, reboot, check, commit. */
export async function update(vd: VirtualDeviceHandle, img: Buffer): Promise<void> {
  let c = await link(vd);
  const target = (await c.getvar('current-slot')) === 'a' ? 'b' : 'a';
  await c.flashBytes(`boot_${target}`, img);
  await c.okay(`set_active:${target}`);
  await rebootAndWait(vd, c);
  c = await link(vd);
  await c.okay('oem mark-successful');
  c.close();
}

/** Send `reboot` (or another command that restarts the device) and wait until it is back. */
export async function rebootAndWait(
  vd: VirtualDeviceHandle,
  c: MiniClient,
  command = 'reboot',
): Promise<void> {
  const up = once(vd, 'up');
  await c.okay(command);
  c.close();
  await up;
}
