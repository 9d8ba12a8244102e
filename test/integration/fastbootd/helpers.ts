/**
 * Helpers for the fastbootd peer tests: a stock phone with dynamic partitions (small super), moved between
 * modes over ADB (Flashline's client) and fastboot (Google's), and test images whose device-side hash can be
 * compared (sizes are multiples of 4096, so a logical partition resized to the image holds exactly it).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openAdb } from '../../../main/protocol/adb/index.js';
import { encodeSuperEmpty, newSuperMetadata } from '../../../main/protocol/fastboot/super/index.js';
import { startVirtualDevice, type VirtualDeviceHandle } from '../../../virtual-device/index.js';
import { tempDir } from '../../unit/virtual-device/helpers/fixtures.js';
import { fastboot, runTool } from '../phone/helpers.js';

export const MiB = 1024 * 1024;
/** Small enough for quick tests: factory system 16 MiB, vendor 6 MiB, product 3 MiB per slot. */
export const TEST_SUPER_SIZE = 64 * MiB;

export interface Phone {
  readonly vd: VirtualDeviceHandle;
  readonly dir: string;
  readonly keyDir: string;
}

export async function dynamicPhone(t: TestContext): Promise<Phone> {
  const dir = await tempDir(t);
  const vd = await startVirtualDevice({
    profile: 'stock-android',
    dynamicPartitions: { superSize: TEST_SUPER_SIZE },
    // Kept until the test's temp dir goes, so the super can be read after the phone stopped.
    stateDir: join(dir, 'state'),
    bootDelayMs: 100,
    android: { bootCompletedMs: 100, markSuccessfulMs: 200 },
  });
  t.after(() => vd.stop());
  return { vd, dir, keyDir: join(dir, 'adb') };
}

/** Run `step` (which reboots the device) and wait until it is back up. */
export async function rebooting(vd: VirtualDeviceHandle, step: () => Promise<unknown>): Promise<void> {
  const up = once(vd, 'up');
  await step();
  await up;
}

/** From Android, over ADB (Flashline's client): `reboot:TARGET`. */
export async function adbReboot(p: Phone, target: 'bootloader' | 'fastboot'): Promise<void> {
  assert.ok(p.vd.adbAddress);
  const c = await openAdb(p.vd.adbAddress, { keyDir: p.keyDir, timeoutMs: 10_000 });
  await rebooting(p.vd, () => c.reboot(target));
  await c.close();
}

/** `fastboot getvar NAME` → its value. */
export async function getvar(address: string, name: string): Promise<string> {
  const out = await fastboot(address, 'getvar', name);
  const m = new RegExp(`^${name.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: (.*)$`, 'm').exec(out);
  assert.ok(m, `getvar ${name}: ${out}`);
  return m[1]!.trim();
}

/** A raw image of `size` bytes (random with a zero run in the middle) and its SHA-256. */
export async function rawImage(
  dir: string,
  name: string,
  size: number,
): Promise<{ path: string; sha256: string }> {
  const bytes = randomBytes(size);
  bytes.fill(0, size / 4, size / 2);
  const path = join(dir, name);
  await fs.writeFile(path, bytes);
  return { path, sha256: createHash('sha256').update(bytes).digest('hex') };
}

/** libsparse's img2simg: a sparse copy of `raw`. */
export async function img2simg(raw: string, out: string): Promise<void> {
  const r = await runTool('img2simg', [raw, out]);
  assert.equal(r.code, 0, r.err);
}

/** The device's SHA-256 of a partition, read through its extents in super for a logical one. */
export function deviceSha256(vd: VirtualDeviceHandle, partition: string): Promise<string> {
  return vd.device.exclusive(() => vd.device.partitionSha256(partition));
}

/** A boot image of `version` from Debian's mkbootimg (header v3), or null when mkbootimg is absent. */
export async function mkbootimg(dir: string, version: string): Promise<string | null> {
  if (!existsSync('/usr/bin/mkbootimg')) return null;
  const img = join(dir, 'boot.img');
  await fs.writeFile(join(dir, 'kernel'), Buffer.alloc(64 * 1024, 1));
  await fs.writeFile(join(dir, 'ramdisk'), Buffer.alloc(4096, 2));
  const made = await runTool('/usr/bin/mkbootimg', [
    ...['--kernel', join(dir, 'kernel'), '--ramdisk', join(dir, 'ramdisk')],
    ...['--os_version', version, '--os_patch_level', '2026-11', '--header_version', '3', '-o', img],
  ]);
  assert.equal(made.code, 0, made.err);
  return img;
}

/**
 * super_empty.img written by Flashline's super codec for the test phone's super: groups main_a/main_b, the
 * logical partitions of both slots with no space yet (as AOSP builds write it).
 */
export async function superEmpty(dir: string, names: readonly string[]): Promise<string> {
  const md = newSuperMetadata({
    size: TEST_SUPER_SIZE,
    groups: ['a', 'b'].map((s) => ({ name: `main_${s}`, maximumSize: 28 * MiB })),
    partitions: ['a', 'b'].flatMap((s) =>
      names.map((n) => ({ name: `${n}_${s}`, group: `main_${s}`, size: 0 })),
    ),
  });
  const path = join(dir, 'super_empty.img');
  await fs.writeFile(path, encodeSuperEmpty(md));
  return path;
}

/** A zip of `files` (name → path), stored by Python's zipfile (the test's own zip writer). */
export async function zipFiles(out: string, files: Record<string, string>): Promise<void> {
  const script =
    'import sys, zipfile\n' +
    'with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:\n' +
    '    for i in range(2, len(sys.argv), 2): z.write(sys.argv[i + 1], sys.argv[i])\n';
  const r = await runTool('python3', ['-c', script, out, ...Object.entries(files).flat()]);
  assert.equal(r.code, 0, r.err);
}
