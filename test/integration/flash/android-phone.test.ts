/**
 * The engine against the stock-android virtual phone over real TCP: found running Android (ADB), identified
 * there, rebooted into its bootloader, flashed in fastboot, and confirmed back in Android over ADB — the
 * device commits the slot itself and the report says how the postcheck confirmed it. A bad boot ends 42.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after as afterAll, describe, it } from 'node:test';
import { UNAVAILABLE } from '../../../main/devices/capabilities.js';
import { flashRig, tempDir } from './helpers.js';

const tmp = tempDir('flashline-android-it-');
afterAll(tmp.cleanup);
let n = 0;
const home = () => join(tmp.dir, `h${n++}`);

describe('flash engine: a stock Android phone, from Android to a confirmed Android boot', () => {
  it('ends 0 on the new slot, saying how the postcheck was confirmed', async () => {
    const { reports, devices } = await flashRig(home(), { devices: 0, phones: 1 });
    const r = reports[0]!;
    assert.equal(r.status, 0, `${r.message}\n${r.messages.join('\n')}`);
    assert.equal(r.device.mode, 'android');
    assert.equal(r.device.profile, 'android-generic');
    assert.equal(r.device.slotBefore, 'a');
    assert.equal(r.device.slotAfter, 'b');
    assert.equal(r.device.versionAfter, '2.0.0');
    assert.match(
      r.postcheck ?? '',
      /Android booted .*slot b, running 2\.0\.0; the device marked slot b successful/,
    );
    assert.ok(r.unchecked?.includes(UNAVAILABLE.rollbackIndex), JSON.stringify(r.unchecked));
    assert.equal(r.deviceVerification, 'not-available');
    assert.equal(devices[0]!.active, 'b');
    assert.equal(devices[0]!.running, '2.0.0');
  });

  it('--bad-boot b ends 42 with the phone on slot a', async () => {
    const { reports, devices } = await flashRig(home(), {
      devices: 0,
      phones: 1,
      faults: () => ({ badBoot: ['b'] }),
    });
    const r = reports[0]!;
    assert.equal(r.status, 42, `${r.message}\n${r.messages.join('\n')}`);
    assert.equal(r.device.slotAfter, 'a');
    assert.equal(devices[0]!.active, 'a');
    assert.ok(devices[0]!.bootable);
  });
});
