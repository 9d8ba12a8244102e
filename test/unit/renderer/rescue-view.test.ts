/** The rescue flow's view logic: the "Rescue…" offer, the backup field, percentages, events into jobs. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeviceInfo, RescueJobView } from '../../../main/api/types.js';
import {
  applyRescueEvent,
  parseBackupField,
  rescueOffer,
  stagePercent,
} from '../../../renderer/src/api/rescue.js';

const edl: DeviceInfo = { id: 'edl:h:1', connection: 'tcp', address: 'h:1', mode: 'edl', state: 'ready' };

describe('rescue view', () => {
  it('offers Rescue… only on a device in EDL, enabled when ready', () => {
    assert.deepEqual(rescueOffer(edl), { shown: true, enabled: true });
    assert.equal(rescueOffer({ ...edl, state: 'busy' }).enabled, false);
    assert.match(rescueOffer({ ...edl, state: 'error' }).why ?? '', /not answered in EDL/);
    assert.equal(rescueOffer({ ...edl, mode: 'fastboot' }).shown, false);
    assert.equal(rescueOffer({ ...edl, mode: 'modem' }).shown, false);
    assert.equal(rescueOffer({ ...edl, sameAs: 'tcp:h:1' }).shown, false);
  });

  it('reads partition labels from the backup field', () => {
    assert.deepEqual(parseBackupField(''), []);
    assert.deepEqual(parseBackupField(' boot, modemst1  boot'), ['boot', 'modemst1']);
    assert.equal(parseBackupField('boot, ../x'), null);
  });

  it('percent of the stage, null when unknown', () => {
    assert.equal(stagePercent(undefined), null);
    assert.equal(stagePercent({ stage: 'program', bytesDone: 5, bytesTotal: 0, rate: 0 }), null);
    assert.equal(stagePercent({ stage: 'program', bytesDone: 50, bytesTotal: 200, rate: 0 }), 25);
  });

  it('follows started / progress / end; ignores events of unknown jobs', () => {
    const job: RescueJobView = {
      jobId: 'j',
      deviceId: 'edl:h:1',
      packagePath: '/p',
      startedAt: 't',
      state: 'running',
    };
    let jobs = applyRescueEvent(new Map(), { type: 'started', job });
    const progress = { stage: 'program', bytesDone: 1, bytesTotal: 2, rate: 3 } as const;
    jobs = applyRescueEvent(jobs, { type: 'progress', jobId: 'j', deviceId: 'edl:h:1', progress });
    assert.deepEqual(jobs.get('j')?.progress, progress);
    assert.equal(applyRescueEvent(jobs, { type: 'progress', jobId: 'x', deviceId: 'd', progress }), jobs);
  });
});
