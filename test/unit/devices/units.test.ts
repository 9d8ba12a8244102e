/**
 * One unit, several endpoints: a phone's ADB port (Android) and fastboot port (bootloader) that report the
 * same serial are one device — one leader, one ready event, one job owning both, re-identified together.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type DeviceEvent, type DeviceInfo, DeviceRegistry } from '../../../main/devices/index.js';
import { groupBySerial } from '../../../main/devices/named-endpoints.js';

const ADB = 'adb:127.0.0.1:5555';
const FB = 'tcp:127.0.0.1:5554';
const base = { connection: 'tcp', address: '127.0.0.1' } as const;
const android = (serial = 'S1', extra: Partial<DeviceInfo> = {}): DeviceInfo => ({
  ...base,
  id: ADB,
  mode: 'android',
  state: 'ready',
  authorization: 'authorized',
  product: 'flashline-virtual',
  serial,
  ...extra,
});
const fastboot = (serial = 'S1', id = FB): DeviceInfo => ({
  ...base,
  id,
  mode: 'fastboot',
  state: 'ready',
  product: 'flashline-virtual',
  serial,
});
const gone = (id: string): DeviceInfo => ({ ...base, id, mode: 'unknown', state: 'gone', note: 'refused' });

function recording() {
  const registry = new DeviceRegistry();
  const events: DeviceEvent[] = [];
  registry.subscribe((e) => events.push(e));
  const readyIds = () => events.flatMap((e) => (e.type === 'ready' ? [e.device.id] : []));
  return { registry, events, readyIds };
}

describe('one unit, several endpoints', () => {
  it('a phone seen in Android, then in the bootloader, is one unit: the gone port keeps its serial', () => {
    const { registry, readyIds } = recording();
    registry.upsert(gone(FB));
    registry.upsert(android());
    assert.deepEqual(readyIds(), [ADB]);
    // Reboot to the bootloader: ADB stops answering first, then fastboot answers.
    registry.upsert(gone(ADB));
    assert.equal(registry.get(ADB)?.serial, 'S1', 'the ADB port stays attached to its unit');
    registry.upsert(fastboot());
    assert.deepEqual(readyIds(), [ADB, FB]);
    assert.equal(registry.get(ADB)?.sameAs, FB);
    assert.deepEqual(registry.endpointsOf(ADB), [FB, ADB]);
    assert.deepEqual(registry.endpointsOf(FB), [FB, ADB]);
  });

  it('both answering at once: the one that led stays the unit, the other points at it, one ready event', () => {
    const { registry, readyIds } = recording();
    registry.upsert(android());
    registry.upsert(fastboot());
    assert.equal(registry.get(FB)?.sameAs, ADB);
    assert.equal(registry.get(ADB)?.sameAs, undefined);
    registry.upsert(android('S1', { version: '2' })); // a poll: still the leader, no new ready
    assert.deepEqual(readyIds(), [ADB]);
    // The leader goes away: the other endpoint is now the unit (its ready event says where it is now).
    registry.upsert(gone(ADB));
    assert.equal(registry.get(FB)?.sameAs, undefined);
    assert.equal(registry.get(ADB)?.sameAs, FB);
    assert.deepEqual(readyIds(), [ADB, FB]);
  });

  it('different serials stay different units', () => {
    const { registry, readyIds } = recording();
    registry.upsert(android('S1'));
    registry.upsert(fastboot('S2'));
    assert.equal(registry.get(FB)?.sameAs, undefined);
    assert.deepEqual(readyIds(), [ADB, FB]);
    assert.deepEqual(registry.endpointsOf(FB), [FB]);
  });

  it('a port that answers with another serial leaves its old unit', () => {
    const { registry } = recording();
    registry.upsert(android('S1'));
    registry.upsert(fastboot('S1'));
    registry.upsert(fastboot('S9'));
    assert.equal(registry.get(FB)?.sameAs, undefined);
    assert.deepEqual(registry.endpointsOf(ADB), [ADB]);
  });

  it('a phone that arrives in Android may be reached through a silent fastboot port (never one of another protocol it was seen on)', () => {
    const { registry } = recording();
    registry.upsert(gone(FB));
    registry.upsert(gone('adb:127.0.0.1:7777'));
    registry.upsert(android());
    assert.deepEqual(registry.endpointsOf(ADB), [ADB, FB]);
    // A fastboot-only line is left as it was: silent fastboot ports are no candidates of a fastboot unit.
    registry.upsert(fastboot('S5', 'tcp:127.0.0.1:6000'));
    registry.upsert(gone('tcp:127.0.0.1:6002'));
    assert.deepEqual(registry.endpointsOf('tcp:127.0.0.1:6000'), [
      'tcp:127.0.0.1:6000',
      'adb:127.0.0.1:7777',
    ]);
  });

  it('two phones in Android on one host each get their own fastboot port; another host is never a candidate', () => {
    const { registry } = recording();
    const other = (id: string, serial: string): DeviceInfo => ({ ...android(serial), id });
    registry.upsert(gone('tcp:10.0.0.7:5554'));
    registry.upsert(gone('tcp:10.0.0.7:6554'));
    registry.upsert(gone('tcp:10.0.0.8:5554'));
    registry.upsert(other('adb:10.0.0.7:5555', 'P1'));
    registry.upsert(other('adb:10.0.0.7:6555', 'P2'));
    assert.deepEqual(registry.endpointsOf('adb:10.0.0.7:5555'), ['adb:10.0.0.7:5555', 'tcp:10.0.0.7:5554']);
    assert.deepEqual(registry.endpointsOf('adb:10.0.0.7:6555'), ['adb:10.0.0.7:6555', 'tcp:10.0.0.7:6554']);
    // No adjacent port: every silent fastboot port of the host may be it (the engine checks the serial).
    registry.upsert(other('adb:10.0.0.8:7000', 'P3'));
    assert.deepEqual(registry.endpointsOf('adb:10.0.0.8:7000'), ['adb:10.0.0.8:7000', 'tcp:10.0.0.8:5554']);
  });

  it('a job owns every endpoint of the unit; release re-identifies them all and the unit is ready once', async () => {
    const { registry, readyIds } = recording();
    let inAndroid = true;
    registry.upsert(android(), async () => (inAndroid ? android('S1', { version: '2' }) : gone(ADB)));
    registry.upsert(gone(FB), async () => (inAndroid ? gone(FB) : fastboot()));
    registry.markBusy(ADB);
    assert.equal(registry.get(ADB)?.state, 'busy');
    assert.equal(registry.get(ADB)?.sameAs, undefined, 'the leader stays the unit while its job runs');
    assert.equal(registry.get(FB)?.state, 'busy', 'no probe opens the fastboot port while the job owns it');
    registry.upsert(fastboot()); // a source's view during the job is kept, the state stays busy
    assert.equal(registry.get(FB)?.state, 'busy');
    const after = await registry.release(ADB);
    assert.deepEqual(
      { id: after?.id, state: after?.state, version: after?.version },
      {
        id: ADB,
        state: 'ready',
        version: '2',
      },
    );
    assert.equal(registry.get(FB)?.state, 'gone');
    assert.deepEqual(readyIds(), [ADB, ADB]);
    inAndroid = false;
    registry.markBusy(FB);
    await registry.release(FB);
    assert.equal(registry.get(FB)?.state, 'ready');
    assert.equal(registry.get(ADB)?.sameAs, FB);
    assert.deepEqual(readyIds(), [ADB, ADB, FB]);
  });

  it("while a job owns the unit, an endpoint that was last seen with the unit's serial stays attached to it", () => {
    const { registry } = recording();
    registry.upsert(fastboot());
    registry.upsert(android());
    registry.upsert(gone(FB)); // the phone booted Android: its fastboot port is silent, still the unit's
    registry.markBusy(ADB);
    assert.deepEqual(
      [registry.get(FB)?.state, registry.get(FB)?.sameAs, registry.get(FB)?.serial],
      ['busy', ADB, 'S1'],
    );
  });

  it('an unauthorized phone is listed in error with its remedy and joins no unit until it says its serial', () => {
    const { registry, readyIds } = recording();
    registry.upsert({
      ...base,
      id: ADB,
      mode: 'android',
      state: 'error',
      authorization: 'unauthorized',
      note: 'Unlock the phone and tap "Allow"…',
    });
    assert.equal(registry.get(ADB)?.authorization, 'unauthorized');
    assert.deepEqual(readyIds(), []);
    registry.upsert(android()); // the technician tapped Allow; the next poll identifies it
    assert.deepEqual(readyIds(), [ADB]);
  });

  it('an Android device without a serial is never ready', () => {
    const { registry } = recording();
    registry.upsert({ ...android(), serial: undefined } as DeviceInfo);
    assert.equal(registry.get(ADB)?.state, 'error');
  });
});

describe('grouping the ids named on a command line', () => {
  const info = (id: string, serial?: string): DeviceInfo => (serial ? { ...fastboot(serial, id) } : gone(id));

  it('ids answering with the same serial are one job, in the order named', () => {
    const { targets, joined } = groupBySerial([info(FB, 'S1'), { ...android('S1') }, info('tcp:h:2', 'S2')]);
    assert.deepEqual(targets, [[FB, ADB], 'tcp:h:2']);
    assert.deepEqual(joined, []);
  });

  it('a phone in Android: its silent fastboot port joins the only unit that answered, and it is said', () => {
    const { targets, joined } = groupBySerial([info(FB), android('S1')]);
    assert.deepEqual(targets, [[FB, ADB]]);
    assert.match(joined[0] ?? '', /tcp:127\.0\.0\.1:5554 does not answer now; taken as another way into S1/);
    // Another host is another device: it keeps a job of its own.
    assert.deepEqual(groupBySerial([info('tcp:10.9.9.9:5554'), android('S1')]).targets, [
      'tcp:10.9.9.9:5554',
      ADB,
    ]);
  });

  it('with several units (or none) answering, a silent id keeps a job of its own, as before', () => {
    assert.deepEqual(groupBySerial([info('tcp:h:1', 'S1'), info('tcp:h:2', 'S2'), info('tcp:h:3')]).targets, [
      'tcp:h:1',
      'tcp:h:2',
      'tcp:h:3',
    ]);
    // Two phones in Android on one host, their fastboot ports beside their ADB ports: two jobs of two ids.
    const phone = (id: string, serial: string): DeviceInfo => ({ ...android(serial), id });
    assert.deepEqual(
      groupBySerial([
        phone('adb:h:5555', 'P1'),
        info('tcp:h:5554'),
        phone('adb:h:6555', 'P2'),
        info('tcp:h:6554'),
      ]).targets,
      [
        ['adb:h:5555', 'tcp:h:5554'],
        ['adb:h:6555', 'tcp:h:6554'],
      ],
    );
    // Not adjacent and two phones answering: the silent port could be either's, so it stays alone.
    assert.deepEqual(
      groupBySerial([phone('adb:h:5555', 'P1'), phone('adb:h:6555', 'P2'), info('tcp:h:9000')]).targets,
      ['adb:h:5555', 'adb:h:6555', 'tcp:h:9000'],
    );
    assert.deepEqual(groupBySerial([info('tcp:h:1'), info('tcp:h:2')]).targets, ['tcp:h:1', 'tcp:h:2']);
  });
});
