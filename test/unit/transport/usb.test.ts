import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  classifyUsbDevice,
  DisconnectedError,
  FakeUsbDevice,
  FakeWebUsb,
  findFastbootInterface,
  loadUsbIds,
  OpenError,
  openLink,
  openUsb,
  parseUsbIds,
  watchUsbDevices,
} from '../../../main/transport/index.js';

async function* chunks(
  total: number,
  chunk: number,
  fill = (i: number) => i & 0xff,
): AsyncGenerator<Uint8Array> {
  let sent = 0;
  while (sent < total) {
    const n = Math.min(chunk, total - sent);
    const c = new Uint8Array(n);
    for (let i = 0; i < n; i++) c[i] = fill(sent + i);
    sent += n;
    yield c;
  }
}

function setup(opts: ConstructorParameters<typeof FakeUsbDevice>[0] = {}) {
  const usb = new FakeWebUsb();
  const device = new FakeUsbDevice({ serialNumber: 'SER1', ...opts });
  usb.plug(device);
  return { usb, device };
}

describe('USB transport against the fake WebUSB device', () => {
  it('finds the fastboot interface by class ff/42/03 and classifies by the VID:PID table', () => {
    const table = loadUsbIds();
    const fastboot = new FakeUsbDevice();
    assert.equal(findFastbootInterface(fastboot)?.interfaceNumber, 0);
    assert.equal(classifyUsbDevice(fastboot, table), 'fastboot');
    const edl = new FakeUsbDevice({
      vendorId: 0x05c6,
      productId: 0x9008,
      interfaceClass: [0xff, 0xff, 0xff],
    });
    assert.equal(findFastbootInterface(edl), undefined);
    assert.equal(classifyUsbDevice(edl, table), 'edl');
    const other = new FakeUsbDevice({ vendorId: 0x1234, productId: 0x5678, interfaceClass: [8, 6, 0x50] });
    assert.equal(classifyUsbDevice(other, table), 'unknown');
  });

  it('rejects a malformed usb-ids table with the field named', () => {
    assert.throws(
      () => parseUsbIds({ devices: [{ vid: 'XYZ', pid: '0001', mode: 'edl', name: 'x' }] }),
      /devices\.0\.vid/,
    );
  });

  it('refuses a device without a fastboot interface', async () => {
    const { usb } = setup();
    const disk = new FakeUsbDevice({ interfaceClass: [8, 6, 0x50] });
    await assert.rejects(openUsb(usb, disk), OpenError);
  });

  it('claims the interface, sends commands and appends a ZLP after a multiple of the packet size', async () => {
    const { usb, device } = setup({ packetSize: 64 });
    const link = await openUsb(usb, device);
    assert.ok(device.claimed.has(0));
    await link.send(new TextEncoder().encode('getvar:product'));
    await link.send(new Uint8Array(128).fill(0x41));
    assert.deepEqual(
      device.outTransfers.map((t) => t.byteLength),
      [14, 128, 0],
    );
    await link.close();
    assert.equal(device.claimed.size, 0);
    assert.equal(device.opened, false);
  });

  it('asks IN transfers for a multiple of the max packet size', async () => {
    const { usb, device } = setup({ packetSize: 512 });
    const link = await openUsb(usb, device);
    device.injectIn('OKAYfakephone');
    assert.equal(new TextDecoder().decode(await link.receive({ maxLength: 256 })), 'OKAYfakephone');
    assert.deepEqual(device.inRequests, [512]);
    await link.close();
  });

  it('streams a data phase with several OUT transfers in flight and exact bytes', async () => {
    const { usb, device } = setup({ packetSize: 512 });
    const link = await openUsb(usb, device, { transferSize: 16 * 1024, inFlight: 3 });
    const size = 16 * 1024 * 10 + 100;
    const progress: number[] = [];
    await link.sendData(size, chunks(size, 5000), { onProgress: (d) => progress.push(d) });
    assert.equal(device.maxInFlightOut, 3);
    const sizes = device.outTransfers.map((t) => t.byteLength);
    assert.ok(sizes.every((n) => n <= 16 * 1024));
    assert.equal(sizes.at(-1), 100, 'no ZLP: the size is not a multiple of 512');
    const all = Buffer.concat(device.outTransfers);
    assert.equal(all.length, size);
    assert.ok(all.every((b, i) => b === (i & 0xff)));
    assert.equal(progress.at(-1), size);
    assert.ok(
      progress.every((v, i) => i === 0 || v > progress[i - 1]!),
      'progress never goes backwards',
    );
    await link.close();
  });

  it('ends a data phase that is a multiple of the packet size with a ZLP', async () => {
    const { usb, device } = setup({ packetSize: 512 });
    const link = await openUsb(usb, device, { transferSize: 4096 });
    await link.sendData(8192, chunks(8192, 1000));
    assert.deepEqual(
      device.outTransfers.map((t) => t.byteLength),
      [4096, 4096, 0],
    );
    await link.close();
  });

  it('fails a data phase with DisconnectedError when the cable is pulled mid-transfer', async () => {
    const { usb, device } = setup();
    const link = await openUsb(usb, device, { transferSize: 4096, inFlight: 2 });
    let seen = 0;
    const source = (async function* () {
      for (let i = 0; i < 1000; i++) {
        seen += 4096;
        if (seen === 40960) usb.unplug(device);
        yield new Uint8Array(4096);
      }
    })();
    await assert.rejects(link.sendData(4096 * 1000, source), DisconnectedError);
    assert.ok(link.isClosed);
    assert.ok(seen < 4096 * 1000, 'stopped pulling the source after the disconnect');
    assert.equal(usb.listenerCount('disconnect'), 0, 'the link dropped its listener');
  });

  it('fails a pending read with DisconnectedError on unplug (no hang)', async () => {
    const { usb, device } = setup();
    const link = await openUsb(usb, device);
    const pending = link.receive({ timeoutMs: 60_000 });
    usb.unplug(device);
    await assert.rejects(pending, DisconnectedError);
    await assert.rejects(link.send(new Uint8Array(3)), DisconnectedError);
  });

  it('reports hotplug connect and disconnect and stops cleanly', async () => {
    const { usb, device } = setup();
    const added: string[] = [];
    const removed: string[] = [];
    const watch = await watchUsbDevices(
      usb,
      (d) => added.push(d.serialNumber ?? '?'),
      (d) => removed.push(d.serialNumber ?? '?'),
    );
    const second = new FakeUsbDevice({ serialNumber: 'SER2' });
    usb.plug(second);
    usb.unplug(device);
    watch.stop();
    usb.unplug(second);
    assert.deepEqual(added, ['SER1', 'SER2']);
    assert.deepEqual(removed, ['SER1']);
    assert.equal(usb.listenerCount('connect'), 0);
  });

  it('opens usb:SERIAL ids through openLink', async () => {
    const { usb, device } = setup();
    const link = await openLink('usb:SER1', { usb });
    device.injectIn('OKAY');
    assert.equal(new TextDecoder().decode(await link.receive()), 'OKAY');
    await link.close();
    await assert.rejects(openLink('usb:NOPE', { usb }), /no USB device usb:NOPE/);
  });
});
