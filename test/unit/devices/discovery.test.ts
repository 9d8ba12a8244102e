import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type DeviceEvent,
  DeviceRegistry,
  endpointSource,
  type FastbootEndpoint,
  serialSource,
  startDiscovery,
  usbSource,
} from '../../../main/devices/index.js';
import {
  createDuplexPair,
  framedPacketLink,
  handshake,
  memoryLink,
  type SerialBackend,
} from '../../../main/transport/index.js';
import { FakeUsbDevice, FakeWebUsb } from '../../../main/transport/testing.js';
import { FakeFastboot, serveFake, usbResponder } from '../fastboot/fake-peer.js';

function memoryEndpoint(id: string, fake: FakeFastboot): FastbootEndpoint {
  return {
    id,
    connection: 'virtual',
    address: id,
    async open(signal) {
      const [host, dev] = createDuplexPair();
      void serveFake(dev, fake);
      const stream = memoryLink(host);
      await handshake(stream, { signal });
      return framedPacketLink(stream);
    },
  };
}

describe('device discovery', () => {
  it('identifies devices in parallel; a mute device ends in error without delaying the others', async () => {
    const good = new FakeFastboot();
    good.vars.set('running-version', '1.2.3');
    good.vars.set('rollback-index', '7');
    good.vars.set('hw-revision', 'rev-b');
    good.vars.set('current-slot', '_b');
    const mute = new FakeFastboot();
    mute.handler = () => [];
    const registry = new DeviceRegistry();
    const events: DeviceEvent[] = [];
    registry.subscribe((e) => events.push(e));
    const discovery = await startDiscovery(registry, [
      endpointSource([memoryEndpoint('mem:good', good), memoryEndpoint('mem:mute', mute)], {
        identifyTimeoutMs: 500,
      }),
    ]);
    const goodReady = new Promise<void>((resolve) =>
      registry.subscribe((e) => {
        if (e.type === 'changed' && e.device.id === 'mem:good') resolve();
      }),
    );
    await goodReady;
    assert.equal(
      registry.get('mem:mute')?.state,
      'identifying',
      'the mute device did not hold up the good one',
    );
    await discovery.settled();
    assert.deepEqual(registry.get('mem:good'), {
      id: 'mem:good',
      connection: 'virtual',
      address: 'mem:good',
      mode: 'fastboot',
      state: 'ready',
      product: 'fakephone',
      serial: 'FAKE123',
      currentSlot: 'b',
      version: '1.2.3',
      rollbackIndex: 7,
      hardwareRevision: 'rev-b',
    });
    const mutedInfo = registry.get('mem:mute');
    assert.equal(mutedInfo?.state, 'error');
    assert.match(mutedInfo?.note ?? '', /timed out|cancelled/);
    assert.deepEqual(
      events.map((e) => e.type),
      ['added', 'added', 'changed', 'ready', 'changed'],
    );
    registry.markBusy('mem:good');
    assert.equal(registry.get('mem:good')?.state, 'busy');
    assert.equal(events.at(-1)?.type, 'changed');
    assert.equal(registry.update('mem:none', { state: 'busy' }), undefined);
    discovery.stop();
    assert.equal(registry.list().length, 0, 'stopping a source removes its devices');
  });

  it('follows USB hotplug: identifies fastboot devices, classifies EDL, removes on unplug', async () => {
    const usb = new FakeWebUsb();
    const fake = new FakeFastboot();
    const phone = new FakeUsbDevice({ serialNumber: 'PHONE1', onOut: usbResponder(fake) });
    usb.plug(phone);
    const registry = new DeviceRegistry();
    const discovery = await startDiscovery(registry, [usbSource({ backend: usb })]);
    await discovery.settled();
    assert.equal(registry.get('usb:PHONE1')?.product, 'fakephone');
    assert.equal(registry.get('usb:PHONE1')?.mode, 'fastboot');
    assert.equal(phone.opened, false, 'identification released the device');
    const edl = new FakeUsbDevice({
      vendorId: 0x05c6,
      productId: 0x9008,
      interfaceClass: [0xff, 0xff, 0xff],
    });
    usb.plug(edl);
    assert.equal(registry.get('usb:05c6:9008')?.mode, 'edl');
    usb.unplug(phone);
    assert.equal(registry.get('usb:PHONE1'), undefined);
    discovery.stop();
    assert.equal(usb.listenerCount('connect'), 0);
  });

  it('a hotplugged USB phone is identifying (its descriptor name is no product) until identified, then ready once', async () => {
    const usb = new FakeWebUsb();
    const registry = new DeviceRegistry();
    const events: DeviceEvent[] = [];
    registry.subscribe((e) => events.push(e));
    const discovery = await startDiscovery(registry, [usbSource({ backend: usb })]);
    usb.plug(
      new FakeUsbDevice({
        serialNumber: 'PHONE2',
        productName: 'Android',
        onOut: usbResponder(new FakeFastboot()),
      }),
    );
    const seen = registry.get('usb:PHONE2');
    assert.deepEqual(
      { state: seen?.state, product: seen?.product, note: seen?.note },
      { state: 'identifying', product: undefined, note: 'USB: Android' },
    );
    await discovery.settled();
    assert.deepEqual(
      { state: registry.get('usb:PHONE2')?.state, product: registry.get('usb:PHONE2')?.product },
      { state: 'ready', product: 'fakephone' },
    );
    assert.deepEqual(
      events.filter((e) => e.type === 'ready').map((e) => (e.type === 'ready' ? e.device.id : '')),
      ['usb:PHONE2'],
    );
    discovery.stop();
  });

  it('says "no USB access" instead of crashing when there is no USB bus', async () => {
    const broken = new FakeWebUsb();
    broken.getDevices = () => Promise.reject(new Error('getDevices error: /sys/bus/usb/devices/ not found'));
    const registry = new DeviceRegistry();
    const discovery = await startDiscovery(registry, [usbSource({ backend: broken })]);
    assert.equal(discovery.problems.length, 1);
    assert.match(discovery.problems[0]!, /^usb: no USB access/);
    assert.equal(broken.listenerCount('connect'), 0, 'no hotplug subscription without a bus');
  });

  it('lists serial ports by VID:PID and survives a failing enumeration (udevadm missing)', async () => {
    const listing: SerialBackend = {
      list: async () => [{ path: '/dev/ttyUSB0', vendorId: '2c7c', productId: '0125', serialNumber: 'Q1' }],
      open: () => Promise.reject(new Error('not in this test')),
    };
    const registry = new DeviceRegistry();
    let d = await startDiscovery(registry, [serialSource({ backend: listing })]);
    assert.equal(registry.get('serial:/dev/ttyUSB0')?.mode, 'modem');
    assert.deepEqual(d.problems, []);
    d.stop();

    const failing: SerialBackend = {
      list: () => Promise.reject(new Error('spawn udevadm ENOENT')),
      open: () => Promise.reject(new Error('ENOENT')),
    };
    d = await startDiscovery(registry, [serialSource({ backend: failing, paths: ['/dev/pts/99'] })]);
    await d.settled();
    assert.match(d.problems[0] ?? '', /enter the port path by hand/);
    assert.equal(registry.get('serial:/dev/pts/99')?.state, 'gone');
    d.stop();
  });
});
