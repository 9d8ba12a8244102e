/**
 * `flashline station --adb HOST:PORT --tcp HOST:PORT` with a stock-android virtual phone: through the API
 * (WebSocket, token) the phone is listed running Android with USB debugging allowed; devices.reboot sends it
 * to its bootloader, where its fastboot endpoint leads the unit; a second reboot is refused (not in Android,
 * nothing sent). SIGTERM then stops the station, which exits by itself.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDemoRig } from '../../../main/cli/commands/demo.js';
import type { DeviceInfo } from '../../../main/devices/device-info.js';
import { SMALL_PACKAGE, tempDir } from '../flash/helpers.js';
import { describeRun, LEAK_EXIT_CODE } from './child.js';
import { driveStation } from './station-child.js';

const tmp = tempDir('flashline-station-android-');
after(tmp.cleanup);

describe('flashline station with a phone in Android', () => {
  it('lists it as Android, reboots it to fastboot through the API, refuses a reboot it cannot do', async () => {
    const rig = await startDemoRig({ devices: 0, phones: 1, dir: join(tmp.dir, 'rig'), pkg: SMALL_PACKAGE });
    const phone = rig.devices[0]!;
    const adbId = phone.adbAddress ?? '';
    const hostPort = (id: string) => id.replace(/^(adb|tcp):/, '');
    const seen: string[] = [];
    try {
      const args = ['--no-usb', '--no-serial', '--adb', hostPort(adbId), '--tcp', hostPort(phone.address)];
      const { run, problem } = await driveStation(
        args,
        { env: { FLASHLINE_HOME: join(tmp.dir, 'home') } },
        async (station) => {
          const until = async (id: string, ok: (d: DeviceInfo) => boolean) => {
            for (let i = 0; i < 300; i++) {
              const d = (await station.client.devices.list.query()).find((x) => x.id === id);
              if (d && ok(d)) return d;
              await new Promise((r) => setTimeout(r, 100));
            }
            throw new Error(`${id} never got there`);
          };
          const inAndroid = await until(adbId, (d) => d.state === 'ready');
          seen.push(`${inAndroid.mode} ${inAndroid.authorization}`);
          await station.client.devices.reboot.mutate({ id: adbId, target: 'bootloader' });
          const inFastboot = await until(phone.address, (d) => d.state === 'ready');
          seen.push(`${inFastboot.mode} ${inFastboot.serial}`);
          await until(adbId, (d) => d.sameAs === phone.address);
          await station.client.devices.reboot.mutate({ id: phone.address, target: 'bootloader' }).then(
            () => seen.push('rebooted again?'),
            (err: Error) => seen.push(/not in Android/.test(err.message) ? 'refused' : err.message),
          );
        },
      );
      assert.equal(problem, undefined);
      assert.deepEqual(seen, ['android authorized', `fastboot ${phone.serial}`, 'refused']);
      assert.ok(!run.killed, `the station did not end by itself: ${describeRun(run)}`);
      assert.notEqual(run.code, LEAK_EXIT_CODE, describeRun(run));
      assert.equal(run.code, 0, describeRun(run));
    } finally {
      await rig.stop();
    }
  });
});
