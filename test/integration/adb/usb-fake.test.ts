/**
 * ADB over USB with the fake WebUSB device: the unit shows an ADB interface (class ff/42/01); every OUT
 * transfer goes to the virtual adbd (serveAdb) through an in-process pipe, and each message it answers is
 * delivered as two IN transfers, header then payload, as adbd does on USB. `usb:SERIAL` reaches it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { openAdb } from '../../../main/protocol/adb/index.js';
import {
  ADB_HEADER_LENGTH,
  AdbMessageParser,
  encodeHeader,
  encodeMessage,
} from '../../../main/protocol/adb/wire.js';
import {
  ADB_USB_CLASS,
  createDuplexPair,
  DisconnectedError,
  findAdbInterface,
  findFastbootInterface,
  OpenError,
  openLink,
} from '../../../main/transport/index.js';
import { FakeUsbDevice, FakeWebUsb } from '../../../main/transport/testing.js';
import type { AdbSessionEnd } from '../../../virtual-device/adb/device-handler.js';
import { serveAdb } from '../../../virtual-device/adb/serve-adb.js';
import { FakePhone } from './fake-phone.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-adb-usb-'));
const keyDir = join(home, 'adb');
after(() => rmSync(home, { recursive: true, force: true }));

/** A fake USB phone in Android: ADB interface, adbd behind it. */
function usbPhone(
  phone: FakePhone,
  { combined = false } = {},
): {
  usb: FakeWebUsb;
  device: FakeUsbDevice;
  session: Promise<AdbSessionEnd>;
} {
  const [hostEnd, deviceEnd] = createDuplexPair();
  const device = new FakeUsbDevice({
    serialNumber: 'USBPHONE1',
    vendorId: 0x18d1,
    productId: 0x4ee7,
    interfaceClass: [ADB_USB_CLASS.class, ADB_USB_CLASS.subclass, ADB_USB_CLASS.protocol],
    onOut: (bytes) => {
      hostEnd.write(bytes);
    },
  });
  const parser = new AdbMessageParser();
  hostEnd.on('data', (chunk: Buffer) => {
    for (const msg of parser.push(new Uint8Array(chunk))) {
      // `combined`: a device that sends small messages as one transfer (header + payload).
      if (combined && ADB_HEADER_LENGTH + msg.payload.byteLength <= 512) device.injectIn(encodeMessage(msg));
      else {
        device.injectIn(encodeHeader(msg));
        if (msg.payload.byteLength > 0) device.injectIn(msg.payload);
      }
    }
  });
  hostEnd.on('error', () => {});
  const session = serveAdb(deviceEnd, phone, { serial: 'USBPHONE1' });
  const usb = new FakeWebUsb();
  usb.plug(device);
  return { usb, device, session };
}

describe('ADB over USB (fake WebUSB)', () => {
  it('opens usb:SERIAL by its ADB interface, runs shell commands and reboots', async () => {
    const phone = new FakePhone();
    const { usb, device, session } = usbPhone(phone);
    assert.ok(findAdbInterface(device));
    assert.equal(findFastbootInterface(device), undefined);
    const adb = await openAdb('usb:USBPHONE1', { keyDir, usb });
    try {
      assert.equal(adb.description, 'usb 18d1:4ee7 USBPHONE1');
      assert.equal(adb.banner.state, 'device');
      assert.equal(await adb.getprop('ro.boot.slot_suffix'), '_a');
      assert.equal((await adb.shell('exit 5')).exitCode, 5);
      const medium = await adb.shell('medium');
      assert.equal(medium.stdout.length, 700_000);
      // Header and payload travel as separate transfers: the first OUT transfer is CNXN's bare header.
      assert.equal(device.outTransfers[0]?.byteLength, ADB_HEADER_LENGTH);
      await adb.reboot('bootloader');
      assert.deepEqual(phone.reboots, ['bootloader']);
      assert.deepEqual(await session, { reason: 'reboot', target: 'bootloader' });
    } finally {
      await adb.close();
    }
  });

  it('also reads a device that sends header and payload in one transfer', async () => {
    const { usb } = usbPhone(new FakePhone(), { combined: true });
    const adb = await openAdb('usb:USBPHONE1', { keyDir, usb });
    try {
      assert.equal(await adb.getprop('ro.boot.slot_suffix'), '_a');
      assert.equal((await adb.getprops()).get('sys.boot_completed'), '1');
    } finally {
      await adb.close();
    }
  });

  it('a pulled cable fails the pending call with DisconnectedError', async () => {
    const phone = new FakePhone();
    const { usb, device } = usbPhone(phone);
    const adb = await openAdb('usb:USBPHONE1', { keyDir, usb });
    device.pull();
    await assert.rejects(adb.getprop('ro.boot.slot_suffix'), DisconnectedError);
    await adb.close();
  });

  it('refuses a unit without an ADB interface, and fastboot refuses the ADB interface', async () => {
    const usb = new FakeWebUsb();
    usb.plug(new FakeUsbDevice({ serialNumber: 'FB1' }));
    await assert.rejects(
      openAdb('usb:FB1', { keyDir, usb }),
      (e: unknown) => e instanceof OpenError && /ADB interface \(class ff\/42\/01\)/.test(e.message),
    );
    const { usb: adbOnly } = usbPhone(new FakePhone());
    await assert.rejects(
      openLink('usb:USBPHONE1', { usb: adbOnly }),
      /fastboot interface \(class ff\/42\/03\)/,
    );
    await assert.rejects(openAdb('usb:NOPE', { keyDir, usb }), /no USB device usb:NOPE/);
  });
});
