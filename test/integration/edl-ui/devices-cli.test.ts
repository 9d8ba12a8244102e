/** `flashline devices --edl …` as a child process: a device in EDL listed with its Sahara identity; bad ids refused. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { EdlDeviceHandle } from '../../../virtual-device/edl/edl-device.js';
import { describeRun, runFlashline } from '../cli/child.js';

describe('flashline devices --edl', () => {
  let device: EdlDeviceHandle;
  before(async () => {
    device = await EdlDeviceHandle.start({ storage: 'emmc', serialNumber: 0xc0ffee01 });
  });
  after(() => device.stop());

  it('lists edl:HOST:PORT in mode edl with serial, MSM HW id and OEM PK hash (JSON)', async () => {
    const r = await runFlashline([
      'devices',
      '--no-usb',
      '--no-list-serial',
      '--json',
      '--edl',
      device.address!,
    ]);
    assert.equal(r.code, 0, describeRun(r));
    const { devices } = JSON.parse(r.stdout) as { devices: Record<string, unknown>[] };
    assert.deepEqual(devices, [
      {
        id: device.address,
        connection: 'tcp',
        address: device.address!.slice(4),
        mode: 'edl',
        state: 'ready',
        serial: 'c0ffee01',
        msmHwId: '000a50e100000000',
        oemPkHash: Buffer.from(device.oemPkHash).toString('hex'),
        saharaVersion: 2,
      },
    ]);
  });

  it('refuses an id of another protocol with a usage error (exit 2)', async () => {
    const r = await runFlashline(['devices', '--no-usb', '--no-list-serial', '--edl', 'tcp:127.0.0.1:5554']);
    assert.equal(r.code, 2, describeRun(r));
    assert.match(r.stderr, /'tcp:127\.0\.0\.1:5554' is not an EDL port; use edl:HOST:PORT .* or serial:PATH/);
  });
});
