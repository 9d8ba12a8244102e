/** The "Enter download mode" offer the device card shows for modems identified on their AT port. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeviceInfo } from '../../../main/api/types.js';
import { enterDownloadModeOffer, rebootToFastbootOffer } from '../../../renderer/src/api/device-mode.js';

const modem: DeviceInfo = {
  id: 'serial:/dev/ttyUSB2',
  connection: 'serial',
  address: '/dev/ttyUSB2',
  mode: 'modem',
  state: 'ready',
  imei: '866123045678904',
};

describe('enter-download-mode offer', () => {
  it('is offered for a ready modem only, never the reboot to fastboot', () => {
    assert.deepEqual(enterDownloadModeOffer(modem), { shown: true, enabled: true });
    assert.equal(rebootToFastbootOffer(modem).shown, false);
    assert.equal(enterDownloadModeOffer({ ...modem, mode: 'android' }).shown, false);
    assert.match(enterDownloadModeOffer({ ...modem, state: 'identifying' }).why ?? '', /not identified/);
    assert.match(enterDownloadModeOffer({ ...modem, state: 'busy' }).why ?? '', /job/);
  });
});
