/** The registry's device life cycle: identifying → ready → busy → (re-identified) → ready, gone, error. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DeviceEvent, type DeviceInfo, DeviceRegistry } from '../../../main/devices/index.js';

const base = { connection: 'tcp', address: 'h:1', mode: 'fastboot' } as const;
const identifying = (id: string): DeviceInfo => ({ ...base, id, mode: 'unknown', state: 'identifying' });
const ready = (id: string, serial: string, extra: Partial<DeviceInfo> = {}): DeviceInfo => ({
  ...base,
  id,
  state: 'ready',
  product: 'flashline-virtual',
  serial,
  ...extra,
});

function recording() {
  const registry = new DeviceRegistry();
  const events: DeviceEvent[] = [];
  registry.subscribe((e) => events.push(e));
  const types = () => events.map((e) => (e.type === 'removed' ? `removed` : `${e.type}:${e.device.state}`));
  return { registry, events, types };
}

describe('device registry life cycle', () => {
  it('emits one ready event when a device becomes ready, not on every update', () => {
    const { registry, types } = recording();
    registry.upsert(identifying('tcp:a'));
    registry.upsert(ready('tcp:a', 'S1'));
    registry.upsert(ready('tcp:a', 'S1')); // a poll that found nothing new
    registry.upsert(ready('tcp:a', 'S1', { version: '2.0' })); // facts change, still ready
    assert.deepEqual(types(), ['added:identifying', 'changed:ready', 'ready:ready', 'changed:ready']);
  });

  it('a fastboot device without product or serial is in error, never ready', () => {
    const { registry, types } = recording();
    registry.upsert({ ...ready('tcp:a', 'S1'), serial: undefined } as DeviceInfo);
    assert.equal(registry.get('tcp:a')?.state, 'error');
    assert.match(registry.get('tcp:a')?.note ?? '', /did not report its serial number/);
    assert.deepEqual(types(), ['added:error']);
  });

  it('stays busy while a job owns it, then is re-identified and ready again with what it now reports', async () => {
    const { registry, types } = recording();
    let version = '1.0';
    registry.upsert(ready('tcp:a', 'S1', { version }), async () => ready('tcp:a', 'S1', { version }));
    registry.markBusy('tcp:a');
    registry.upsert(ready('tcp:a', 'S1', { version: 'stale' })); // a source's view during the job
    assert.equal(registry.get('tcp:a')?.state, 'busy');
    version = '2.0';
    const after = await registry.release('tcp:a');
    assert.deepEqual({ state: after?.state, version: after?.version }, { state: 'ready', version: '2.0' });
    assert.deepEqual(types(), [
      'added:ready',
      'ready:ready',
      'changed:busy',
      'changed:busy',
      'changed:identifying',
      'changed:ready',
      'ready:ready',
    ]);
  });

  it('a unit that re-enumerates while its job reboots it stays busy until the job releases it', async () => {
    const { registry, events } = recording();
    const probe = async () => ready('usb:P1', 'P1', { version: '2.0' });
    registry.upsert(ready('usb:P1', 'P1'), probe);
    registry.markBusy('usb:P1');
    registry.remove('usb:P1'); // the reboot: it leaves the bus…
    registry.upsert({ ...identifying('usb:P1'), connection: 'usb' }, probe); // …and comes back
    assert.equal(registry.get('usb:P1')?.state, 'busy');
    const readyEvents = () => events.filter((e) => e.type === 'ready').length;
    assert.equal(readyEvents(), 1, 'not offered to anyone while its job runs');
    assert.equal((await registry.release('usb:P1'))?.version, '2.0');
    assert.equal(readyEvents(), 2);
  });

  it('refresh re-reads a device on demand; a probe that fails leaves it in error with the reason', async () => {
    const { registry } = recording();
    let fail = false;
    registry.upsert(ready('tcp:a', 'S1'), async () => {
      if (fail) throw new Error('no answer');
      return ready('tcp:a', 'S1', { currentSlot: 'b' });
    });
    assert.equal((await registry.refresh('tcp:a'))?.currentSlot, 'b');
    fail = true;
    const d = await registry.refresh('tcp:a');
    assert.deepEqual({ state: d?.state, note: d?.note }, { state: 'error', note: 'no answer' });
    assert.equal(await registry.refresh('tcp:none'), undefined);
  });

  it('endpoints that report the same serial are one device: only the first is ready', () => {
    const { registry, events } = recording();
    registry.upsert(ready('tcp:a', 'S1'));
    registry.upsert({ ...ready('serial:/dev/pts/3', 'S1'), connection: 'serial' });
    assert.equal(registry.get('serial:/dev/pts/3')?.sameAs, 'tcp:a');
    assert.deepEqual(
      events.filter((e) => e.type === 'ready').map((e) => (e.type === 'ready' ? e.device.id : '')),
      ['tcp:a'],
    );
    // The first endpoint goes away: the other one is now the device, and ready.
    registry.upsert({ ...identifying('tcp:a'), state: 'gone' });
    assert.equal(registry.get('serial:/dev/pts/3')?.sameAs, undefined);
    assert.equal(events.at(-1)?.type, 'ready');
  });
});
