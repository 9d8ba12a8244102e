/**
 * Fast checks of the USB harness's building blocks, judged by real peers where one exists: the initramfs
 * writer's archive is unpacked by busybox's own cpio (the one the VM boots with), and the FunctionFS blobs are
 * checked field by field against the layout in linux/usb/functionfs.h and ch9.h.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { writeCpioGz } from '../../scripts/usb-vm/cpio.js';
import { ensureAssets } from '../../scripts/usb-vm/debian-assets.js';
import { cacheDir } from '../../scripts/usb-vm/harness.js';
import { resolveModules } from '../../scripts/usb-vm/modules.js';
import {
  decodeEvents,
  fastbootDescriptors,
  functionStrings,
} from '../../virtual-device/usb-gadget/descriptors.js';

const run = promisify(execFile);

describe('USB harness parts', () => {
  let dir: string;
  let busybox: string;
  let modulesDir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flashline-usb-parts-'));
    const assets = await ensureAssets(cacheDir);
    busybox = assets.busybox;
    modulesDir = assets.modulesDir;
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes a gzip newc archive that busybox cpio unpacks with modes, data and symlinks', async () => {
    const src = join(dir, 'src.bin');
    const odd = Buffer.alloc(70_001, 7); // not a multiple of 4: exercises the padding
    await writeFile(src, odd);
    const archive = join(dir, 'a.cpio.gz');
    await writeCpioGz(
      [
        { kind: 'dir', path: '/bin' },
        { kind: 'file', path: '/bin/tool', source: src, mode: 0o755 },
        { kind: 'data', path: '/etc/x', data: Buffer.from('hello\n') },
        { kind: 'symlink', path: '/bin/alias', target: 'tool' },
      ],
      archive,
    );
    const out = join(dir, 'out');
    await run('sh', [
      '-c',
      `mkdir -p "${out}" && cd "${out}" && gzip -dc "${archive}" | "${busybox}" cpio -id`,
    ]);
    assert.deepEqual(await readFile(join(out, 'bin/tool')), odd);
    assert.equal((await stat(join(out, 'bin/tool'))).mode & 0o777, 0o755);
    assert.equal(await readFile(join(out, 'etc/x'), 'utf8'), 'hello\n');
    assert.equal(await readlink(join(out, 'bin/alias')), 'tool');
  });

  it('orders the USB modules so every dependency loads first', async () => {
    const mods = await resolveModules(modulesDir, join(dir, 'mods'));
    const names = mods.map((m) => m.name);
    const at = (n: string) => names.indexOf(n);
    for (const n of [
      'usb_common',
      'usbcore',
      'udc_core',
      'configfs',
      'libcomposite',
      'dummy_hcd',
      'usb_f_fs',
    ]) {
      assert.ok(at(n) >= 0, `${n} missing from ${names.join(' ')}`);
    }
    assert.ok(at('usb_common') < at('usbcore') && at('usbcore') < at('dummy_hcd'));
    assert.ok(at('udc_core') < at('libcomposite') && at('libcomposite') < at('usb_f_fs'));
    assert.ok(at('configfs') < at('libcomposite'));
  });

  it('encodes FunctionFS v2 descriptors for a fastboot interface at full and high speed', () => {
    const d = fastbootDescriptors();
    assert.equal(d.readUInt32LE(0), 3, 'FUNCTIONFS_DESCRIPTORS_MAGIC_V2');
    assert.equal(d.readUInt32LE(4), d.length);
    assert.equal(d.readUInt32LE(8), 1 | 2, 'HAS_FS_DESC | HAS_HS_DESC');
    assert.equal(d.readUInt32LE(12), 3);
    assert.equal(d.readUInt32LE(16), 3);
    const speed = (at: number, maxPacket: number) => {
      assert.deepEqual([...d.subarray(at, at + 9)], [9, 4, 0, 0, 2, 0xff, 0x42, 0x03, 1]);
      assert.deepEqual([d[at + 9], d[at + 10], d[at + 11], d[at + 12]], [7, 5, 0x01, 2]);
      assert.equal(d.readUInt16LE(at + 13), maxPacket);
      assert.deepEqual([d[at + 16], d[at + 17], d[at + 18], d[at + 19]], [7, 5, 0x82, 2]);
      assert.equal(d.readUInt16LE(at + 20), maxPacket);
    };
    speed(20, 64);
    speed(20 + 23, 512);
    assert.equal(d.length, 20 + 2 * 23);
  });

  it('encodes the strings blob and decodes ep0 events', () => {
    const s = functionStrings(['fastboot']);
    assert.deepEqual(
      [s.readUInt32LE(0), s.readUInt32LE(4), s.readUInt32LE(8), s.readUInt32LE(12), s.readUInt16LE(16)],
      [2, s.length, 1, 1, 0x0409],
    );
    assert.equal(s.subarray(18).toString('latin1'), 'fastboot\0');
    assert.throws(() => functionStrings(['a\0b']), /NUL/);
    const ev = Buffer.alloc(24);
    ev[8] = 2; // ENABLE
    ev[20] = 3; // DISABLE
    assert.deepEqual(decodeEvents(ev), ['enable', 'disable']);
  });
});
