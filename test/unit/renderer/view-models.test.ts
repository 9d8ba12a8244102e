/** The renderer's pure view models: package fit, job progress, factory counters, history export, formats. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { selectReports } from '../../../main/api/report-export.js';
import type { DeviceInfo, JobEvent, PackageView } from '../../../main/api/types.js';
import { packageFit } from '../../../renderer/src/api/compat.js';
import {
  authorizationLabel,
  MODE_LABELS,
  rebootToFastbootOffer,
} from '../../../renderer/src/api/device-mode.js';
import { formatBytes, formatEta, formatRate } from '../../../renderer/src/api/format.js';
import { savedMessage } from '../../../renderer/src/api/history.js';
import { applyJobEvent, type JobMap, overallPercent } from '../../../renderer/src/api/jobs.js';
import { uploadProblem } from '../../../renderer/src/api/upload.js';
import { sampleReport } from '../api/report-fixture.js';

const NOW = Date.parse('2026-06-01T00:00:00Z');
const pkg: PackageView = {
  path: '/p.flp',
  id: 'p',
  sha256: 'ab',
  version: '2.0.0',
  expectedVersion: '2.0.0',
  products: ['flashline-virtual'],
  rollbackIndex: 2,
  created: '2026-01-01T00:00:00Z',
  expires: '2027-01-01T00:00:00Z',
  signerKeyIds: ['k1'],
  signers: [{ keyId: 'k1', demo: false }],
  encrypted: false,
  images: [{ partition: 'boot', size: 4096, slotted: true }],
};
const device: DeviceInfo = {
  id: 'tcp:127.0.0.1:1',
  connection: 'virtual',
  address: '127.0.0.1:1',
  mode: 'fastboot',
  state: 'ready',
  product: 'flashline-virtual',
  serial: 'S1',
  rollbackIndex: 1,
};

describe('packageFit', () => {
  it('accepts a matching device and says why others do not fit', () => {
    assert.equal(packageFit(pkg, device, NOW).fits, true);
    const cases: [Partial<DeviceInfo>, RegExp][] = [
      [{ product: 'other-phone' }, /product other-phone is not one of/],
      [{ rollbackIndex: 5 }, /rollback index 5 is newer than the package's 2/],
      [{ mode: 'edl' }, /edl mode/],
      [{ state: 'busy' }, /busy/],
      [{ state: 'gone' }, /offline/],
      [{ mode: 'recovery' }, /recovery mode; put it in fastboot mode or start Android/],
      [
        { mode: 'android', state: 'error', authorization: 'unauthorized', note: 'tap "Allow"' },
        /USB debugging is not allowed for this computer yet: tap "Allow"/,
      ],
    ];
    for (const [change, reason] of cases) {
      const fit = packageFit(pkg, { ...device, ...change }, NOW);
      assert.equal(fit.fits, false);
      assert.match(fit.reason, reason);
    }
    // A phone in Android is flashed from there (the job reboots it into the bootloader).
    assert.equal(
      packageFit(pkg, { ...device, mode: 'android', authorization: 'authorized' }, NOW).fits,
      true,
    );
    assert.match(packageFit({ ...pkg, expires: '2026-05-01T00:00:00Z' }, device, NOW).reason, /expired/);
    const hw = packageFit(
      { ...pkg, hardwareRevisions: ['rev-2'] },
      { ...device, hardwareRevision: 'rev-1' },
      NOW,
    );
    assert.match(hw.reason, /hardware revision rev-1/);
  });
});

describe('job progress', () => {
  it('runs one bar from 0 to 100 across stages and never moves back', () => {
    const stages = ['preflight', 'download', 'verify', 'install', 'switch', 'postcheck'] as const;
    const event = fc.oneof(
      fc.record({ type: fc.constant('stage' as const), stage: fc.constantFrom(...stages) }),
      fc.record({
        type: fc.constant('progress' as const),
        stage: fc.constantFrom(...stages),
        bytesDone: fc.nat(1000),
        bytesTotal: fc.nat(1000),
        rate: fc.nat(),
      }),
    );
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        let jobs: JobMap = new Map();
        let last = 0;
        for (const e of events) {
          const full: JobEvent =
            e.type === 'stage'
              ? { type: 'stage', jobId: 'j', deviceId: 'd', stage: e.stage }
              : { ...e, jobId: 'j', deviceId: 'd', eta: null };
          jobs = applyJobEvent(jobs, full);
          const pct = jobs.get('j')?.percent ?? 0;
          assert.ok(pct >= last && pct <= 100, `${pct} after ${last}`);
          last = pct;
        }
      }),
    );
    assert.equal(overallPercent('postcheck', 1, 1), 100);
    assert.equal(overallPercent('preflight', 0, 0), 0);
  });

  it('an end event carries status, message and remedy; later events do not reopen the job', () => {
    let jobs: JobMap = applyJobEvent(new Map(), {
      type: 'stage',
      jobId: 'j',
      deviceId: 'd',
      stage: 'postcheck',
    });
    jobs = applyJobEvent(jobs, {
      type: 'end',
      jobId: 'j',
      deviceId: 'd',
      status: 42,
      error: { code: 42, message: 'came back on slot a', remedy: 'Report the device serial.' },
      report: sampleReport({ jobId: 'j1', serial: 'S1', status: 42, statusName: 'booted_old_slot' }),
    });
    const j = jobs.get('j');
    assert.equal(j?.state, 'failed');
    assert.deepEqual(j?.error, {
      code: 42,
      message: 'came back on slot a',
      remedy: 'Report the device serial.',
    });
    jobs = applyJobEvent(jobs, {
      type: 'progress',
      jobId: 'j',
      deviceId: 'd',
      stage: 'download',
      bytesDone: 1,
      bytesTotal: 2,
      rate: 1,
      eta: 1,
    });
    assert.equal(jobs.get('j')?.state, 'failed');
  });
});

describe('history', () => {
  const reports = [
    sampleReport({ jobId: 'a', serial: 'S1' }),
    sampleReport({
      jobId: 'b',
      serial: 'S2',
      status: 42,
      statusName: 'booted_old_slot',
      message: 'said "no", =cmd',
    }),
  ];
  it('filters by text and outcome in the service (jobs.history and exports)', () => {
    assert.deepEqual(
      selectReports(reports, { text: 's2', outcome: 'all' }).map((r) => r.jobId),
      ['b'],
    );
    assert.deepEqual(
      selectReports(reports, { text: '', outcome: 'ok' }).map((r) => r.jobId),
      ['a'],
    );
    assert.deepEqual(
      selectReports(reports, { text: 'booted', outcome: 'failed' }).map((r) => r.jobId),
      ['b'],
    );
  });
  it('says where an export went', () => {
    assert.equal(savedMessage(1, '/tmp/x.csv'), 'Exported 1 job to /tmp/x.csv.');
    assert.equal(savedMessage(3, 'h.json'), 'Exported 3 jobs to h.json.');
  });
});

describe('formats and upload checks', () => {
  it('formats sizes, rates and ETAs', () => {
    assert.equal(formatBytes(512), '512 B');
    assert.equal(formatBytes(128 * 1024), '128.0 KiB');
    assert.equal(formatBytes(3 * 1024 ** 3), '3.00 GiB');
    assert.equal(formatRate(0), '—');
    assert.equal(formatRate(12_345_678), '12.3 MB/s');
    assert.equal(formatEta(null), '—:—');
    assert.equal(formatEta(65), '1:05');
    assert.equal(formatEta(3725), '1:02:05');
  });
  it('refuses files that are not packages before sending them', () => {
    assert.equal(uploadProblem({ name: 'a.flp', size: 10 }), null);
    assert.match(uploadProblem({ name: 'a.zip', size: 10 }) ?? '', /not a Flashline package/);
    assert.match(uploadProblem({ name: 'a.flp', size: 0 }) ?? '', /empty/);
  });
});

describe('device mode and the reboot-to-fastboot offer', () => {
  const phone: DeviceInfo = { ...device, mode: 'android', authorization: 'authorized' };
  it('offers the reboot only for a free, authorized device in Android or recovery', () => {
    assert.deepEqual(rebootToFastbootOffer(phone), { shown: true, enabled: true });
    assert.equal(
      rebootToFastbootOffer(device).shown,
      false,
      'a device in fastboot has nothing to reboot into',
    );
    assert.equal(rebootToFastbootOffer({ ...phone, sameAs: 'tcp:x:1' }).shown, false);
    assert.match(rebootToFastbootOffer({ ...phone, state: 'busy' }).why ?? '', /job/);
    assert.match(
      rebootToFastbootOffer({ ...phone, state: 'error', authorization: 'unauthorized' }).why ?? '',
      /Allow USB debugging/,
    );
    assert.equal(MODE_LABELS[phone.mode], 'Android');
    assert.equal(authorizationLabel(device), undefined);
  });
});
