/**
 * devices.reboot (rebootDevice) through the API: validated at the boundary, sent over the unit's ADB
 * endpoint only when the device runs Android and no job owns it; every refusal says what to do.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import type { DeviceInfo } from '../../../main/devices/index.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';

const ADB = 'adb:127.0.0.1:5555';
const FB = 'tcp:127.0.0.1:5554';
const android: DeviceInfo = {
  id: ADB,
  connection: 'tcp',
  address: '127.0.0.1:5555',
  mode: 'android',
  state: 'ready',
  authorization: 'authorized',
  product: 'flashline-virtual',
  serial: 'S1',
};

function setup() {
  const registry = new DeviceRegistry();
  const sent: string[] = [];
  registry.upsert(android, undefined, {
    reboot: async (target) => {
      sent.push(target);
    },
  });
  const caller = createCallerFactory(appRouter)({
    version: 't',
    mode: 'station',
    devices: registry,
    demo: false,
  });
  return { registry, sent, caller };
}

describe('devices.reboot', () => {
  it('reboots an Android device to the bootloader over ADB; the list says it is rebooting', async () => {
    const { caller, sent, registry } = setup();
    const d = await caller.devices.reboot({ id: ADB, target: 'bootloader' });
    assert.deepEqual(sent, ['bootloader']);
    assert.equal(d.state, 'identifying');
    assert.match(registry.get(ADB)?.note ?? '', /rebooting to fastboot/);
  });

  it('through any endpoint of the unit: the fastboot port of a phone in Android reboots it over ADB', async () => {
    const { caller, sent, registry } = setup();
    registry.upsert({ ...android, id: FB, mode: 'unknown', state: 'gone', serial: 'S1' });
    await caller.devices.reboot({ id: FB, target: 'bootloader' });
    assert.deepEqual(sent, ['bootloader']);
  });

  it('refuses a busy device, a device not in Android, an unknown id and a bad target', async () => {
    const { caller, sent, registry } = setup();
    registry.upsert({ ...android, id: 'tcp:h:1', mode: 'fastboot', serial: 'S2' });
    await assert.rejects(caller.devices.reboot({ id: 'tcp:h:1', target: 'bootloader' }), /not in Android/);
    await assert.rejects(caller.devices.reboot({ id: 'tcp:none:1', target: 'bootloader' }), /No device/);
    await assert.rejects(caller.devices.reboot({ id: ADB, target: 'edl' as 'bootloader' }), (err: Error) =>
      /bootloader/.test(err.message),
    );
    registry.markBusy(ADB);
    await assert.rejects(caller.devices.reboot({ id: ADB, target: 'bootloader' }), /busy with a job/);
    assert.deepEqual(sent, []);
  });

  it('an unauthorized phone is refused with the remedy', async () => {
    const { caller, registry } = setup();
    registry.upsert({
      ...android,
      state: 'error',
      authorization: 'unauthorized',
      serial: undefined,
      note: 'Unlock the phone and tap "Allow"',
    } as DeviceInfo);
    await assert.rejects(caller.devices.reboot({ id: ADB, target: 'bootloader' }), /tap "Allow"/);
  });
});
