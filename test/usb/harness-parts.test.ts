/**
 * Fast checks of the USB harness's building blocks, judged by real peers where one exists: the initramfs
 * writer's archive is unpacked by busybox's own cpio (the one the VM boots with), the FunctionFS blobs are
 * checked field by field against the layout in linux/usb/functionfs.h and ch9.h, and the gadget's ADB
 * function is driven by Flashline's ADB client through the fake WebUSB device (the VM test then does the
 * same over the kernel's USB stack).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, readlink, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { openAdb } from '../../main/protocol/adb/open.js';
import { ADB_HEADER_LENGTH } from '../../main/protocol/adb/wire.js';
import { FakeUsbDevice, FakeWebUsb } from '../../main/transport/testing.js';
import { ADB_USB_CLASS } from '../../main/transport/usb-adb.js';
import { writeCpioGz } from '../../scripts/usb-vm/cpio.js';
import { ensureAssets } from '../../scripts/usb-vm/debian-assets.js';
import { cacheDir } from '../../scripts/usb-vm/harness.js';
import { resolveModules } from '../../scripts/usb-vm/modules.js';
import { serveAdbOverUsb } from '../../virtual-device/usb-gadget/adb-function.js';
import {
  adbDescriptors,
  decodeEvents,
  fastbootDescriptors,
  functionStrings,
} from '../../virtual-device/usb-gadget/descriptors.js';
import { FfsIoError, type FunctionFs } from '../../virtual-device/usb-gadget/functionfs.js';
import { FakePhone } from '../integration/adb/fake-phone.js';

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

  for (const [name, make, protocol] of [
    ['fastboot', fastbootDescriptors, 0x03],
    ['ADB', adbDescriptors, 0x01],
  ] as const) {
    it(`encodes FunctionFS v2 descriptors for a ${name} interface at full and high speed`, () => {
      checkBulkPair(make(), protocol);
    });
  }

  function checkBulkPair(d: Buffer, protocol: number): void {
    assert.equal(d.readUInt32LE(0), 3, 'FUNCTIONFS_DESCRIPTORS_MAGIC_V2');
    assert.equal(d.readUInt32LE(4), d.length);
    assert.equal(d.readUInt32LE(8), 1 | 2, 'HAS_FS_DESC | HAS_HS_DESC');
    assert.equal(d.readUInt32LE(12), 3);
    assert.equal(d.readUInt32LE(16), 3);
    const speed = (at: number, maxPacket: number) => {
      assert.deepEqual([...d.subarray(at, at + 9)], [9, 4, 0, 0, 2, 0xff, 0x42, protocol, 1]);
      assert.deepEqual([d[at + 9], d[at + 10], d[at + 11], d[at + 12]], [7, 5, 0x01, 2]);
      assert.equal(d.readUInt16LE(at + 13), maxPacket);
      assert.deepEqual([d[at + 16], d[at + 17], d[at + 18], d[at + 19]], [7, 5, 0x82, 2]);
      assert.equal(d.readUInt16LE(at + 20), maxPacket);
    };
    speed(20, 64);
    speed(20 + 23, 512);
    assert.equal(d.length, 20 + 2 * 23);
  }

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

/**
 * FunctionFS bulk endpoints as the kernel gives them to the gadget: an OUT read ends at the end of the host's
 * transfer or at the size asked (the rest stays for the next read); every write is one IN transfer.
 */
class SimulatedFfs {
  readonly #out: Uint8Array[] = [];
  #wake: (() => void) | null = null;
  #down = false;
  readonly readSizes: number[] = [];
  constructor(readonly device: FakeUsbDevice) {}
  hostSent(bytes: Uint8Array): void {
    this.#out.push(bytes);
    this.#wake?.();
  }
  unplug(): void {
    this.#down = true;
    this.#wake?.();
  }
  async readTransfer(max: number): Promise<Buffer> {
    this.readSizes.push(max);
    while (this.#out.length === 0) {
      if (this.#down) throw new FfsIoError('ep1 read failed (ESHUTDOWN)', 'ESHUTDOWN');
      await new Promise<void>((r) => {
        this.#wake = r;
      });
    }
    const t = this.#out[0]!;
    if (t.byteLength <= max) this.#out.shift();
    else this.#out[0] = t.subarray(max);
    return Buffer.from(t.subarray(0, max));
  }
  async writeTransfer(bytes: Uint8Array): Promise<void> {
    if (this.#down) throw new FfsIoError('ep2 write failed (ESHUTDOWN)', 'ESHUTDOWN');
    this.device.injectIn(bytes);
  }
}

describe('the gadget ADB function (serveAdbOverUsb) against the fake WebUSB device', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'flashline-usb-adbfn-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const phoneOnUsb = () => {
    let ffs: SimulatedFfs | undefined;
    const device = new FakeUsbDevice({
      serialNumber: 'FLUSB0002',
      interfaceClass: [ADB_USB_CLASS.class, ADB_USB_CLASS.subclass, ADB_USB_CLASS.protocol],
      onOut: (bytes) => ffs?.hostSent(bytes),
    });
    ffs = new SimulatedFfs(device);
    const usb = new FakeWebUsb();
    usb.plug(device);
    const phone = new FakePhone();
    const session = serveAdbOverUsb(ffs as unknown as FunctionFs, phone, { serial: 'FLUSB0002' });
    return { ffs, device, usb, phone, session };
  };

  it('reads header then exactly the payload, answers in separate transfers, ends with the reboot', async () => {
    const { ffs, device, usb, phone, session } = phoneOnUsb();
    const adb = await openAdb('usb:FLUSB0002', { keyDir: join(dir, 'keys'), usb });
    try {
      assert.equal(adb.banner.state, 'device');
      assert.equal(await adb.getprop('ro.boot.slot_suffix'), '_a');
      assert.equal((await adb.shell('exit 5')).exitCode, 5);
      assert.equal((await adb.shell('medium')).stdout.length, 700_000);
      await adb.reboot('bootloader');
      assert.deepEqual(await session, { reason: 'reboot', target: 'bootloader' });
      assert.deepEqual(phone.reboots, ['bootloader']);
    } finally {
      await adb.close();
    }
    // Every header read asks for 24 bytes; each payload read for what its header announced.
    assert.equal(ffs.readSizes[0], ADB_HEADER_LENGTH);
    assert.equal(device.outTransfers[0]?.byteLength, ADB_HEADER_LENGTH);
  });

  it('ends as a cable pull when the function goes down', async () => {
    const { ffs, session } = phoneOnUsb();
    ffs.unplug();
    assert.deepEqual(await session, { reason: 'cable-pull' });
  });
});
