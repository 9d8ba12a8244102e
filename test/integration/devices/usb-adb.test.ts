/**
 * A phone plugged in over USB while it runs Android (fake WebUSB device with the ADB interface ff/42/01,
 * the virtual adbd behind it): the USB source identifies it over ADB — mode android, serial, product, slot,
 * authorized — or lists it unauthorized with the remedy when it does not accept this computer's key.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DeviceRegistry, startDiscovery, usbSource } from '../../../main/devices/index.js';
import { AdbMessageParser, encodeMessage } from '../../../main/protocol/adb/wire.js';
import { ADB_USB_CLASS, createDuplexPair } from '../../../main/transport/index.js';
import { FakeUsbDevice, FakeWebUsb } from '../../../main/transport/testing.js';
import { serveAdb } from '../../../virtual-device/adb/serve-adb.js';
import { FakePhone } from '../adb/fake-phone.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-usb-adb-'));
after(() => rmSync(home, { recursive: true, force: true }));

/**
 * A USB phone in Android: every OUT transfer reaches the virtual adbd, each message it answers comes back
 * as one IN transfer (the host reads that layout as well as adbd's split one, see test/integration/adb).
 */
function usbPhone(serial: string, authorizedKeys?: readonly string[]) {
  const phone = new FakePhone();
  phone.props.set('ro.serialno', serial);
  phone.props.set('ro.product.device', 'flashline-virtual');
  const [hostEnd, deviceEnd] = createDuplexPair();
  const { class: cls, subclass, protocol } = ADB_USB_CLASS;
  const onOut = (bytes: Uint8Array) => void hostEnd.write(bytes);
  const device = new FakeUsbDevice({
    serialNumber: serial,
    interfaceClass: [cls, subclass, protocol],
    onOut,
  });
  const parser = new AdbMessageParser();
  hostEnd.on('data', (chunk: Buffer) => {
    for (const m of parser.push(new Uint8Array(chunk))) device.injectIn(encodeMessage(m));
  });
  hostEnd.on('error', () => {});
  void serveAdb(deviceEnd, phone, { serial, ...(authorizedKeys ? { authorizedKeys } : {}) });
  return { device, close: () => hostEnd.destroy() };
}

async function listed(serial: string, authorizedKeys?: readonly string[]) {
  const usb = new FakeWebUsb();
  const phone = usbPhone(serial, authorizedKeys);
  usb.plug(phone.device);
  const registry = new DeviceRegistry();
  const discovery = await startDiscovery(registry, [
    usbSource({ backend: usb, adbKeyDir: join(home, 'adb'), identifyTimeoutMs: 5000 }),
  ]);
  try {
    await discovery.settled();
    return registry.get(`usb:${serial}`);
  } finally {
    discovery.stop();
    phone.close();
  }
}

describe('USB phones in Android', () => {
  it('are identified over ADB: android, serial, product, slot, authorized', async () => {
    const d = await listed('USBPHONE1');
    assert.deepEqual(
      {
        mode: d?.mode,
        state: d?.state,
        serial: d?.serial,
        product: d?.product,
        slot: d?.currentSlot,
        auth: d?.authorization,
      },
      {
        mode: 'android',
        state: 'ready',
        serial: 'USBPHONE1',
        product: 'flashline-virtual',
        slot: 'a',
        auth: 'authorized',
      },
    );
  });

  it('one that does not accept this computer is listed with the remedy (and its USB serial)', async () => {
    const d = await listed('USBPHONE2', []);
    assert.equal(d?.authorization, 'unauthorized');
    assert.equal(d?.serial, 'USBPHONE2');
    assert.equal(d?.state, 'error');
    assert.match(d?.note ?? '', /tap "Allow"/);
  });
});
