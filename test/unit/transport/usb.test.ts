import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  classifyUsbDevice,
  DisconnectedError,
  findFastbootInterface,
  loadUsbIds,
  OpenError,
  openLink,
  openUsb,
  parseUsbIds,
  TimeoutError,
  watchUsbDevices,
} from '../../../main/transport/index.js';
import { FakeUsbDevice, FakeWebUsb } from '../../../main/transport/testing.js';
import { classifyUsbLibError, USB_FAILURE, USB_LIB } from '../../../main/transport/usb-types.js';

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

  it('claims the interface and never sends a zero-length packet, as AOSP fastboot does', async () => {
    const { usb, device } = setup({ packetSize: 64 });
    const link = await openUsb(usb, device);
    assert.ok(device.claimed.has(0));
    await link.send(new TextEncoder().encode('getvar:product'));
    await link.send(new Uint8Array(128).fill(0x41));
    assert.deepEqual(
      device.outTransfers.map((t) => t.byteLength),
      [14, 128],
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

  it('keeps several OUT transfers in flight on a backend that queues them (browser WebUSB)', async () => {
    const { usb, device } = setup({ packetSize: 512, pendingPerEndpoint: 3 });
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

  it('ends a data phase that is a multiple of the packet size without a ZLP', async () => {
    const { usb, device } = setup({ packetSize: 512 });
    const link = await openUsb(usb, device, { transferSize: 4096 });
    await link.sendData(8192, chunks(8192, 1000));
    assert.deepEqual(
      device.outTransfers.map((t) => t.byteLength),
      [4096, 4096],
    );
    await link.close();
  });

  it('fails a data phase with DisconnectedError when the cable is pulled mid-transfer', async () => {
    const { usb, device } = setup();
    const link = await openUsb(usb, device, { transferSize: 4096 });
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

  it('lets transfers outlive the library default timeout by passing the operation deadline', async () => {
    // The fake cancels a transfer after defaultTimeoutMs unless given a timeout, as usb v3 does after 1 s.
    const { usb, device } = setup({ defaultTimeoutMs: 20 });
    const link = await openUsb(usb, device);
    const reply = sleep(200).then(() => device.injectIn('OKAYslow'));
    assert.equal(new TextDecoder().decode(await link.receive({ timeoutMs: 10_000 })), 'OKAYslow');
    await reply;
    await link.send(new Uint8Array(10), { timeoutMs: 7000 });
    assert.equal(device.cancelledTransfers, 0);
    assert.ok(device.inTimeouts.every((t) => t >= 10_000));
    assert.ok(device.outTimeouts.every((t) => t >= 7000));
    await link.close();
  });

  it('with a signal, waits in short IN transfers so an abort frees the endpoint promptly', async () => {
    const { usb, device } = setup({ defaultTimeoutMs: 20 });
    const link = await openUsb(usb, device);
    const ac = new AbortController();
    const slowReply = sleep(1500).then(() => device.injectIn('OKAYlate'));
    assert.equal(
      new TextDecoder().decode(await link.receive({ timeoutMs: 60_000, signal: ac.signal })),
      'OKAYlate',
    );
    await slowReply;
    assert.ok(
      device.inTimeouts.every((t) => t < 60_000),
      'no single transfer holds the whole deadline',
    );
    const pending = link.receive({ timeoutMs: 60_000, signal: ac.signal });
    ac.abort();
    await assert.rejects(pending, /cancelled/);
    assert.ok(link.isClosed, 'an abort drops the link');
    // The native transfer cannot be cancelled; it ends at its slice, well before the 60 s deadline.
    for (let i = 0; i < 100 && device.pendingIn > 0; i++) await sleep(50);
    assert.equal(device.pendingIn, 0);
  });

  it("a link re-opened while an aborted link's transfer is still pending waits for the endpoint", async () => {
    const { usb, device } = setup({ defaultTimeoutMs: 20 });
    const first = await openUsb(usb, device);
    const ac = new AbortController();
    const pending = first.receive({ timeoutMs: 60_000, signal: ac.signal });
    ac.abort();
    await assert.rejects(pending, /cancelled/);
    assert.equal(device.pendingIn, 1, 'the aborted transfer is still pending natively');
    // Re-opening waits for the stale transfer, so it cannot swallow the reply meant for the new link.
    const second = await openUsb(usb, device);
    assert.equal(device.pendingIn, 0);
    await second.send(new TextEncoder().encode('getvar:product'));
    device.injectIn('OKAYagain');
    assert.equal(new TextDecoder().decode(await second.receive({ timeoutMs: 10_000 })), 'OKAYagain');
    assert.equal(device.endpointBusyRejections, 0);
    await second.close();
  });

  it('never has two transfers pending on an endpoint at default settings, and reads ahead meanwhile', async () => {
    let yielded = 0;
    const yieldedAtCompletion: number[] = [];
    const { usb, device } = setup({
      onOut: async () => {
        await sleep(5);
        yieldedAtCompletion.push(yielded);
      },
    });
    const link = await openUsb(usb, device, { transferSize: 16 * 1024 });
    const size = 16 * 1024 * 8;
    const source = (async function* () {
      for await (const c of chunks(size, 4096)) {
        yielded += c.byteLength;
        yield c;
      }
    })();
    await link.sendData(size, source);
    assert.equal(device.maxInFlightOut, 1);
    assert.equal(device.endpointBusyRejections, 0);
    assert.equal(Buffer.concat(device.outTransfers).length, size);
    assert.ok(
      (yieldedAtCompletion[0] ?? 0) > 16 * 1024,
      'the next buffer was filled while the first transfer was in flight',
    );
    await link.close();
  });

  it('models the library: a second pending transfer on one endpoint is rejected', async () => {
    const { device } = setup({ onOut: () => sleep(20) });
    await device.open();
    await device.claimInterface(0);
    const first = device.transferOut(1, new Uint8Array(4));
    await assert.rejects(device.transferOut(1, new Uint8Array(4)), /transferOut error: endpoint not found/);
    assert.equal((await first).status, 'ok');
    await assert.rejects(device.transferIn(1, 512, 10), /transferIn error: Cancelled/);
  });

  for (const kind of [USB_LIB.errors.disconnected, USB_LIB.errors.fault] as const) {
    it(`types a pull without udev's event (transfer error ${kind}) as DisconnectedError`, async () => {
      const { usb, device } = setup();
      const link = await openUsb(usb, device, { transferSize: 4096 });
      let seen = 0;
      const source = (async function* () {
        for (let i = 0; i < 1000; i++) {
          seen += 4096;
          if (seen === 40960) device.pull(kind);
          yield new Uint8Array(4096);
        }
      })();
      await assert.rejects(link.sendData(4096 * 1000, source), (err: unknown) => {
        assert.ok(err instanceof DisconnectedError, String(err));
        assert.match(err.message, new RegExp(kind));
        return true;
      });
      assert.ok(link.isClosed);
      assert.ok((await link.disconnected) instanceof DisconnectedError, 'disconnected resolves');
      assert.equal(usb.listenerCount('disconnect'), 0, 'the link dropped its listener');
      assert.equal(device.claimed.size, 0, 'the link released the interface');
    });
  }

  it('types a pull during a read, and a re-open of the gone device, without udev', async () => {
    const { usb, device } = setup();
    const link = await openUsb(usb, device);
    const pending = link.receive({ timeoutMs: 60_000 });
    device.pull();
    await assert.rejects(pending, DisconnectedError);
    await assert.rejects(link.send(new Uint8Array(3)), DisconnectedError);
    // usb v3 reads the descriptors of an unopened device by opening it: "open error: device not found".
    await assert.rejects(openUsb(usb, device), (err: unknown) => {
      assert.ok(err instanceof OpenError, String(err));
      assert.match(err.message, /device not found.*try again/);
      return true;
    });
  });

  it('turns a transfer cancelled by its own timeout into a TimeoutError, not a disconnect', async () => {
    const { usb, device } = setup();
    const link = await openUsb(usb, device);
    // Our deadline is the native one minus a grace period, so our TimeoutError comes first.
    await assert.rejects(link.receive({ timeoutMs: 30 }), TimeoutError);
    assert.ok(link.isClosed);
  });

  it("classifies usb v3's error texts", () => {
    const c = (m: string) => classifyUsbLibError(new Error(m));
    assert.equal(c('transferOut error: Disconnected'), USB_FAILURE.gone);
    assert.equal(c('transferIn error: Fault'), USB_FAILURE.gone);
    assert.equal(c(USB_LIB.errors.openGone), USB_FAILURE.gone);
    assert.equal(c('transferIn error: Cancelled'), USB_FAILURE.cancelled);
    assert.equal(c('transferIn error: Stall'), USB_FAILURE.stall);
    assert.equal(c('OUT transfer stall'), USB_FAILURE.stall);
    assert.equal(c('transferOut error: endpoint not found'), USB_FAILURE.busy);
  });
});
