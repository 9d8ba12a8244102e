import assert from 'node:assert/strict';
import { test } from 'node:test';
import { POWER_LOSS_STAGES, parsePowerLoss } from '../../../virtual-device/faults.js';

test('power-loss specs parse as STAGE[:N] and bad ones name the valid stages', () => {
  assert.deepEqual(parsePowerLoss('flash:4096'), { stage: 'flash', at: 4096 });
  assert.deepEqual(parsePowerLoss('mark-successful'), { stage: 'mark-successful', at: 0 });
  for (const stage of POWER_LOSS_STAGES) assert.equal(parsePowerLoss(`${stage}:1`).stage, stage);
  for (const bad of ['', 'lunch', 'flash:', 'flash:-1', 'flash:1.5', 'FLASH:1', 'flash:1:2']) {
    assert.throws(() => parsePowerLoss(bad), /STAGE\[:N\].*download, flash/, bad);
  }
});
