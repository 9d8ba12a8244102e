import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DisconnectedError,
  EDL_USB_CLASSES,
  findEdlInterface,
  OpenError,
  openUsbEdl,
  TimeoutError,
} from '../../../main/transport/index.js';
import { openStreamLink } from '../../../main/transport/open-stream.js';
import { FakeUsbDevice, FakeWebUsb } from '../../../main/transport/testing.js';
import { trimDocumentTransfer } from '../../../main/transport/usb-edl.js';

function edlDevice(opts: ConstructorParameters<typeof FakeUsbDevice>[0] = {}) {
  const usb = new FakeWebUsb();
  const device = new FakeUsbDevice({
    vendorId: 0x05c6,
    productId: 0x9008,
    serialNumber: 'EDL1',
    interfaceClass: [0xff, 0xff, 0xff],
    ...opts,
  });
  usb.plug(device);
  return { usb, device };
}

describe('Qualcomm EDL over USB bulk (fake WebUSB device)', () => {
  it('finds the EDL interface by the classes qdl accepts (ff/ff/ff, ff/ff/10, ff/ff/11), not others', () => {
    assert.deepEqual(
      EDL_USB_CLASSES.map((c) => c.protocol),
      [0xff, 0x10, 0x11],
    );
    for (const protocol of [0xff, 0x10, 0x11]) {
      const { device } = edlDevice({ interfaceClass: [0xff, 0xff, protocol] });
      assert.equal(findEdlInterface(device)?.usbClass.protocol, protocol);
    }
    assert.equal(findEdlInterface(edlDevice({ interfaceClass: [0xff, 0x42, 0x03] }).device), undefined);
  });

  it('refuses a device without an EDL interface, naming the class it looked for', async () => {
    const { usb, device } = edlDevice({ interfaceClass: [0xff, 0x42, 0x03] });
    await assert.rejects(openUsbEdl(usb, device), (err: unknown) => {
      assert.ok(err instanceof OpenError);
      assert.match(err.message, /no Qualcomm EDL interface \(class ff\/ff\/ff\)/);
      return true;
    });
  });

  it('sends each write as its own transfers of at most 1 MiB, with a ZLP after a whole number of packets', async () => {
    const { usb, device } = edlDevice();
    const link = await openUsbEdl(usb, device);
    await link.write(new Uint8Array(0x30)); // a Sahara HELLO_RESP: short, ends the device's read itself
    await link.write(new Uint8Array(4096)); // a READ_DATA answer: 8 packets, then a ZLP
    await link.write(new Uint8Array((1 << 20) + 512)); // a payload beyond 1 MiB: two transfers, then a ZLP
    assert.deepEqual(
      device.outTransfers.map((t) => t.byteLength),
      [0x30, 4096, 0, 1 << 20, 512, 0],
    );
    await link.close();
  });

  it('uses the endpoint packet size for the ZLP rule (64 bytes at full speed)', async () => {
    const { usb, device } = edlDevice({ packetSize: 64 });
    const link = await openUsbEdl(usb, device);
    await link.write(new Uint8Array(128));
    await link.write(new Uint8Array(100));
    assert.deepEqual(
      device.outTransfers.map((t) => t.byteLength),
      [128, 0, 100],
    );
    await link.close();
  });

  it('reads a byte stream from IN transfers, skipping the device ZLPs and keeping what a read did not take', async () => {
    const { usb, device } = edlDevice();
    const link = await openStreamLink('usb:EDL1', { usb });
    assert.equal(link.usbId, '05c6:9008');
    device.injectIn(new Uint8Array(0));
    device.injectIn(Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]));
    assert.deepEqual([...(await link.readExactly(8, { timeoutMs: 1000 }))], [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual([...(await link.read({ timeoutMs: 1000 }))], [9, 10]);
    device.injectIn(new Uint8Array(0));
    device.injectIn(new TextEncoder().encode('<?xml'));
    assert.equal(new TextDecoder().decode(await link.read({ timeoutMs: 1000, maxBytes: 64 })), '<?xml');
    // Reads ask for whole pages at least (as qdl's 4 KiB reads), never a partial packet.
    assert.ok(device.inRequests.every((n) => n >= 4096 && n % 512 === 0));
    await link.close();
  });

  it('drops what follows </data> in a document transfer, so it is never taken for raw data', async () => {
    const { usb, device } = edlDevice();
    const link = await openStreamLink('usb:EDL1', { usb });
    const ack = '<?xml version="1.0"?><data><response value="ACK" rawmode="true"/></data>';
    device.injectIn(`${ack}\n\0`);
    device.injectIn(Uint8Array.from([0x0a, 1, 2, 3])); // raw sector data may start with any byte
    const doc = new TextDecoder().decode(await link.read({ timeoutMs: 1000 }));
    assert.equal(doc, ack);
    assert.deepEqual([...(await link.readExactly(4, { timeoutMs: 1000 }))], [0x0a, 1, 2, 3]);
    assert.deepEqual(
      [...trimDocumentTransfer(new TextEncoder().encode('<?xml x\n'))],
      [...new TextEncoder().encode('<?xml x\n')],
    );
    await link.close();
  });

  it('treats a short read timeout as silence: the transfer is cancelled natively and the link stays usable', async () => {
    const { usb, device } = edlDevice();
    const link = await openStreamLink('usb:EDL1', { usb });
    // Firehose waits 100 ms for trailing <log> documents; Sahara 1 s for the ROM's HELLO.
    await assert.rejects(link.read({ timeoutMs: 100 }), TimeoutError);
    assert.equal(link.isClosed, false);
    assert.equal(device.cancelledTransfers, 1);
    device.injectIn(new TextEncoder().encode('ok'));
    assert.equal(new TextDecoder().decode(await link.read({ timeoutMs: 1000 })), 'ok');
    await link.close();
  });

  it('ends the link with a DisconnectedError when the device goes away during a read', async () => {
    const { usb, device } = edlDevice();
    const link = await openStreamLink('usb:EDL1', { usb });
    const reading = link.read({ timeoutMs: 5000 });
    device.pull();
    await assert.rejects(reading, DisconnectedError);
    assert.equal(link.isClosed, true);
  });

  it('opens a device in EDL by its VID:PID when it reports no serial number', async () => {
    const { usb, device } = edlDevice({ serialNumber: '' });
    const link = await openStreamLink('usb:05c6:9008', { usb });
    await link.write(Uint8Array.from([1]));
    assert.equal(device.outTransfers.length, 1);
    await link.close();
  });
});
