import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { detectCapabilities, UNAVAILABLE } from '../../../main/devices/capabilities.js';
import { fillCommand, shellFactValue } from '../../../main/devices/capability-values.js';
import {
  DeviceProfileError,
  loadDeviceProfiles,
  parseDeviceProfile,
} from '../../../main/devices/profiles.js';
import { FastbootSession } from '../../../main/flash/adapters/fastboot.js';
import { FastbootClient } from '../../../main/protocol/fastboot/client.js';
import {
  createDuplexPair,
  framedPacketLink,
  memoryLink,
  type PacketLink,
} from '../../../main/transport/index.js';

const tmp = mkdtempSync(join(tmpdir(), 'flashline-profiles-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Variables as the reference virtual device lists them in `getvar all`. */
const referenceVars = new Map([
  ['product', 'flashline-virtual'],
  ['serialno', 'VD1'],
  ['current-slot', 'a'],
  ['slot-count', '2'],
  ['battery-level', '80'],
  ['rollback-index', '1'],
  ['free-space', '1000000'],
  ['running-version', '1.0'],
]);
/** A stock bootloader: standard variables only. */
const stockVars = new Map([
  ['product', 'flashline-virtual'],
  ['serialno', 'VD2'],
  ['current-slot', 'a'],
  ['slot-count', '2'],
]);

describe('device capabilities: probe + profile', () => {
  it('ships valid profiles, including the fallback', () => {
    const ids = loadDeviceProfiles().map((p) => p.id);
    assert.deepEqual(ids, ['android-generic', 'flashline-reference', 'flashline-sink', 'google-pixel']);
  });

  it('the reference device is matched by the variables it lists, not by its product', () => {
    const c = detectCapabilities({ mode: 'fastboot', vars: referenceVars });
    assert.equal(c.profile.id, 'flashline-reference');
    assert.deepEqual(c.slots, { count: 2, current: 'a' });
    assert.deepEqual(c.rollbackIndex, { via: 'getvar', name: 'rollback-index' });
    assert.deepEqual(c.runningVersion, { via: 'getvar', name: 'running-version' });
    assert.deepEqual(c.deviceHash?.args, ['sha256', '{partition}']);
    assert.equal(c.commit.by, 'host');
    assert.equal(c.afterReboot, 'fastboot');
    assert.deepEqual(c.unavailable, []);
    // The same product with a stock bootloader is not the reference device.
    assert.equal(detectCapabilities({ mode: 'fastboot', vars: stockVars }).profile.id, 'android-generic');
  });

  it('a variable the profile names but the device does not list is not available', () => {
    const vars = new Map(referenceVars);
    vars.delete('battery-level');
    const c = detectCapabilities({ mode: 'fastboot', vars });
    assert.equal(c.battery, undefined);
    assert.deepEqual(c.unavailable, [UNAVAILABLE.battery]);
  });

  it('a stock device falls back to android-generic: no vendor commands, committed by the device', () => {
    const c = detectCapabilities({ mode: 'fastboot', vars: stockVars });
    assert.equal(c.deviceHash, undefined);
    assert.equal(c.rollbackIndex, undefined);
    assert.deepEqual(c.commit, { by: 'device' });
    assert.equal(c.afterReboot, 'android');
    assert.equal(c.fastbootConfirm.commit, undefined);
    assert.ok(c.unavailable.includes(UNAVAILABLE.rollbackIndex));
    assert.ok(c.unavailable.includes(UNAVAILABLE.deviceHash));
    assert.ok(!c.unavailable.includes(UNAVAILABLE.version), 'the version is read in Android');
    assert.ok(!c.unavailable.includes(UNAVAILABLE.commit), 'the commit is confirmed in Android');
  });

  it('in Android: facts from properties, reboot to the bootloader over ADB', () => {
    const props = new Map([
      ['ro.serialno', 'P1'],
      ['ro.boot.slot_suffix', '_b'],
      ['ro.build.version.incremental', '42'],
    ]);
    const c = detectCapabilities({ mode: 'android', props });
    assert.equal(c.profile.id, 'android-generic');
    assert.deepEqual(c.slots, { count: 2, current: 'b' });
    assert.deepEqual(c.runningVersion, { via: 'prop', name: 'ro.build.version.incremental' });
    assert.deepEqual(c.reboot.bootloader, { via: 'adb', target: 'bootloader' });
    assert.equal(c.androidConfirm.commitConfirm?.command, 'bootctl is-slot-marked-successful {slotIndex}');
    // A property the device does not set is not available.
    const bare = detectCapabilities({ mode: 'android', props: new Map([['ro.serialno', 'P1']]) });
    assert.equal(bare.runningVersion, undefined);
    assert.ok(bare.unavailable.includes(UNAVAILABLE.version));
  });

  it('a Pixel is matched by its USB ids', () => {
    const c = detectCapabilities({ mode: 'fastboot', vars: stockVars, usbIds: ['18d1:4ee0'] });
    assert.equal(c.profile.id, 'google-pixel');
    assert.equal(c.profile.verifiedOnHardware, false);
  });

  it("a job's fastboot session carries its USB link's ids to the probe (none over TCP)", () => {
    const [a] = createDuplexPair();
    const tcpLike = framedPacketLink(memoryLink(a));
    assert.equal(new FastbootSession(new FastbootClient(tcpLike)).usbId, undefined);
    const usbLike = { ...tcpLike, usbId: '18d1:4ee0' } as PacketLink;
    assert.equal(new FastbootSession(new FastbootClient(usbLike)).usbId, '18d1:4ee0');
    void tcpLike.close();
  });

  it('fills command placeholders and reads shell facts', () => {
    assert.deepEqual(fillCommand(['sha256', '{partition}'], { partition: 'boot_b' }), ['sha256', 'boot_b']);
    assert.deepEqual(fillCommand(['x {slotIndex} {slot}'], { slot: 'b' }), ['x 1 b']);
    assert.equal(
      shellFactValue({ pattern: '^\\s*level:\\s*(\\d+)' }, 'AC powered: false\n  level: 77\n'),
      '77',
    );
    assert.equal(shellFactValue({}, ' 55\n'), '55');
  });

  it('a bad profile file is an error naming the file and the field', () => {
    const file = join(tmp, 'broken.json');
    assert.throws(
      () =>
        parseDeviceProfile(
          file,
          JSON.stringify({
            id: 'broken',
            name: 'x',
            verifiedOnHardware: false,
            match: {},
            afterReboot: 'sideways',
          }),
        ),
      (err: unknown) =>
        err instanceof DeviceProfileError &&
        err.message.includes(file) &&
        err.message.includes('afterReboot'),
    );
    assert.throws(() => parseDeviceProfile(file, '{'), /broken\.json is not valid JSON/);
    writeFileSync(
      join(tmp, 'only.json'),
      JSON.stringify({ id: 'only', name: 'x', verifiedOnHardware: false, match: {}, afterReboot: 'android' }),
    );
    assert.throws(() => loadDeviceProfiles(tmp), /android-generic\.json .* is missing/);
  });
});
