/**
 * View-models behind the screens' words: device labels and order, phases and speeds, the package list
 * and refusals, units per hour from real completions, interrupted jobs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { DeviceInfo, StatusCodeInfo } from '../../../main/api/types.js';
import { STATUS_CODES } from '../../../main/common/status-codes.js';
import {
  compareDevices,
  deviceLabel,
  productName,
  sortDevices,
} from '../../../renderer/src/api/device-label.js';
import { applyDeviceEvent } from '../../../renderer/src/api/device-list.js';
import {
  factoryCounters,
  MIN_UNITS_FOR_RATE,
  unitsPerHour,
  unitsPerHourSeries,
} from '../../../renderer/src/api/factory.js';
import { type InterruptedJob, interruptedLine } from '../../../renderer/src/api/interrupted.js';
import {
  addSample,
  applyJobEvent,
  compactJobs,
  type JobMap,
  type JobView,
  jobLabel,
  jobPhase,
  jobSpeed,
  MAX_SAMPLES,
  throughputSummary,
} from '../../../renderer/src/api/jobs.js';
import { fileName, refusalView, signerName, verifiedPackages } from '../../../renderer/src/api/package.js';
import { sampleReport } from '../api/report-fixture.js';

const codes: ReadonlyMap<number, StatusCodeInfo> = new Map(STATUS_CODES.map((c) => [c.code, c]));

function dev(id: string, address: string, serial?: string, more: Partial<DeviceInfo> = {}): DeviceInfo {
  return {
    id,
    connection: 'tcp',
    address,
    mode: 'fastboot',
    state: 'ready',
    product: 'flashline-virtual',
    ...(serial ? { serial } : {}),
    ...more,
  };
}

describe('device labels and order', () => {
  it('names a device by product in words and serial, never by address', () => {
    assert.equal(productName('flashline-virtual'), 'Flashline Virtual');
    assert.equal(productName('acme_phone-x2'), 'Acme Phone X2');
    assert.equal(productName('Google fastboot'), 'Google fastboot');
    assert.equal(productName(undefined), 'Unknown device');
    const l = deviceLabel(dev('tcp:127.0.0.1:5554', '127.0.0.1:5554', 'DEMO001'));
    assert.deepEqual(l, {
      name: 'Flashline Virtual',
      serial: 'DEMO001',
      full: 'Flashline Virtual · DEMO001',
    });
    assert.ok(!l.full.includes('127.0.0.1'));
    assert.equal(deviceLabel({ state: 'identifying' }).name, 'Identifying…');
  });

  it('orders by port (numbers as numbers), then serial — whatever order they arrive in', () => {
    const a = dev('x', '127.0.0.1:9', 'B');
    const b = dev('y', '127.0.0.1:10', 'A');
    const c = dev('z', '127.0.0.1:10', 'C');
    for (const order of [
      [a, b, c],
      [c, b, a],
      [b, a, c],
    ]) {
      assert.deepEqual(
        sortDevices(order).map((d) => d.id),
        ['x', 'y', 'z'],
      );
    }
    assert.ok(compareDevices(b, c) < 0);
    // Virtual devices (random ports each run) go by serial.
    const v1 = dev('v1', '127.0.0.1:50000', 'DEMO001', { connection: 'virtual' });
    const v2 = dev('v2', '127.0.0.1:40000', 'DEMO002', { connection: 'virtual' });
    assert.deepEqual(
      sortDevices([v2, v1]).map((d) => d.serial),
      ['DEMO001', 'DEMO002'],
    );
    // Live events keep the order too.
    let list = applyDeviceEvent([], { type: 'added', device: c });
    list = applyDeviceEvent(list, { type: 'added', device: a });
    list = applyDeviceEvent(list, { type: 'added', device: b });
    assert.deepEqual(
      list.map((d) => d.id),
      ['x', 'y', 'z'],
    );
  });
});

describe('job rows', () => {
  const progress = (rate: number, eta: number | null, done = 50) =>
    ({
      type: 'progress',
      jobId: 'j',
      deviceId: 'd',
      stage: 'download',
      bytesDone: done,
      bytesTotal: 100,
      rate,
      eta,
    }) as const;

  it('names phases in plain words', () => {
    const base = { state: 'running', status: undefined } as const;
    assert.equal(jobPhase({ ...base, stage: 'preflight' }), 'Checking device');
    assert.equal(jobPhase({ ...base, stage: 'download' }), 'Downloading');
    assert.equal(jobPhase({ ...base, stage: 'verify' }), 'Verifying');
    assert.equal(jobPhase({ ...base, stage: 'install' }), 'Installing');
    assert.equal(jobPhase({ ...base, stage: 'switch' }), 'Switching slot');
    assert.equal(jobPhase({ ...base, stage: 'postcheck' }), 'Confirming boot');
    assert.equal(jobPhase({ state: 'done', stage: 'postcheck' }), 'Done');
    assert.equal(jobPhase({ state: 'failed', stage: 'postcheck', status: 42 }), 'Failed');
    assert.equal(jobPhase({ state: 'failed', stage: 'download', status: 18 }), 'Stopped');
  });

  it('shows rate and time left only when measured', () => {
    let jobs: JobMap = applyJobEvent(new Map(), progress(2_000_000, 3), 1000);
    assert.deepEqual(jobSpeed(jobs.get('j') as JobView), { rate: '2.0 MB/s', eta: '0:03 left' });
    // A stage that moves no bytes (confirming boot at 92 %): no "— MB/s", no "ETA 0:00".
    jobs = applyJobEvent(jobs, { type: 'stage', jobId: 'j', deviceId: 'd', stage: 'postcheck' }, 2000);
    assert.deepEqual(jobSpeed(jobs.get('j') as JobView), { rate: null, eta: null });
    // Measured rate but unknown time left: rate only.
    jobs = applyJobEvent(new Map(), progress(1_000_000, null), 1000);
    assert.deepEqual(jobSpeed(jobs.get('j') as JobView), { rate: '1.0 MB/s', eta: null });
    // The last bytes of a stage: nothing left to wait for, so no "0:00".
    jobs = applyJobEvent(new Map(), progress(1_000_000, 0, 100), 1000);
    assert.equal(jobSpeed(jobs.get('j') as JobView).eta, null);
  });

  it('keeps throughput readings for the sparkline, bounded for any job length', () => {
    let jobs: JobMap = new Map();
    for (let i = 0; i < 1000; i++) jobs = applyJobEvent(jobs, progress(1e6 + i, 1), 1000 + i * 250);
    const j = jobs.get('j') as JobView;
    assert.ok(j.samples.length <= MAX_SAMPLES && j.samples.length > MAX_SAMPLES / 4, `${j.samples.length}`);
    // Times stay in order and span the job.
    for (let i = 1; i < j.samples.length; i++) assert.ok((j.samples[i]?.t ?? 0) > (j.samples[i - 1]?.t ?? 0));
    assert.ok((j.samples.at(-1)?.t ?? 0) > 240);
    assert.match(throughputSummary(j.samples) ?? '', /^average 1\.0 MB\/s, peak 1\.0 MB\/s$/);
    assert.equal(throughputSummary([]), null);
    assert.equal(addSample([], { t: 0, rate: 1 }).length, 1);
  });

  it('keeps readings only for the newest finished jobs', () => {
    let jobs: JobMap = new Map();
    for (let i = 0; i < 5; i++) {
      const id = `j${i}`;
      jobs = applyJobEvent(jobs, { ...progress(1e6, 1), jobId: id }, 1000);
      jobs = applyJobEvent(
        jobs,
        {
          type: 'end',
          jobId: id,
          deviceId: 'd',
          status: 0,
          report: sampleReport({ jobId: id, serial: 'S' }),
        },
        2000,
      );
    }
    jobs = applyJobEvent(jobs, { ...progress(1e6, 1), jobId: 'running' }, 3000);
    const compact = compactJobs(jobs, 2);
    assert.deepEqual(
      [...compact.values()].map((j) => j.samples.length),
      [0, 0, 0, 1, 1, 1],
    );
    assert.equal(compactJobs(compact, 2), compact, 'nothing to drop: the same map');
  });

  it('titles a job by the device as connected, else by its report', () => {
    const d = dev('tcp:h:1', 'h:1', 'S1');
    assert.equal(jobLabel({ deviceId: 'tcp:h:1' }, [d]).full, 'Flashline Virtual · S1');
    assert.equal(
      jobLabel({ deviceId: 'gone', serial: 'S9', product: 'acme-phone' }, [d]).full,
      'Acme Phone · S9',
    );
  });
});

describe('package screen', () => {
  it('lists each verified package once, by file name, newest first', () => {
    const list = verifiedPackages([
      { path: '/demo/flashline-demo.flp', id: 'flashline-demo', version: '2.0.0', sha256: 'aa' },
      {
        path: '/up/0123456789abcdef/flashline-demo.flp',
        id: 'flashline-demo',
        version: '2.0.0',
        sha256: 'aa',
      },
      { path: 'C:\\pkgs\\other.flp', id: 'other', version: '1.0.0', sha256: 'bb' },
    ]);
    assert.deepEqual(
      list.map((p) => [p.fileName, p.path]),
      [
        ['other.flp', 'C:\\pkgs\\other.flp'],
        ['flashline-demo.flp', '/up/0123456789abcdef/flashline-demo.flp'],
      ],
    );
    assert.equal(fileName('/a/b/c.flp'), 'c.flp');
  });

  it('names the signer: the demo key as such, others by their comment, else the key id', () => {
    assert.match(signerName({ keyId: 'f02f359b728f604b', demo: true }), /^Flashline demo key/);
    assert.equal(
      signerName({ keyId: 'k', comment: 'Acme release key: used for phones', demo: false }),
      'Acme release key',
    );
    assert.equal(signerName({ keyId: '0011223344556677', demo: false }), 'Key 0011223344556677');
  });

  it('tells a refusal in the status table words; the reader internals only as details', () => {
    const raw = 'Invalid tar header. Maybe the tar is corrupted or it needs to be gunzipped?';
    const v = refusalView({ code: 21, message: raw }, codes);
    const info = STATUS_CODES.find((c) => c.code === 21);
    assert.equal(v.message, info?.message);
    assert.equal(v.remedy, info?.remedy);
    assert.doesNotMatch(`${v.message} ${v.remedy}`, /tar|gzip|gunzip|malformed_package/i);
    assert.deepEqual(v.details, ['Status 21 (malformed_package)', raw]);
    // A decade's general code lets the service's specific reason lead.
    const unreadable = refusalView({ code: 20, message: 'Cannot read package file /x.flp (ENOENT).' }, codes);
    assert.equal(unreadable.message, 'Cannot read package file /x.flp (ENOENT).');
    assert.match(unreadable.details[0] ?? '', /^Status 20 \(verify_failed\)/);
    // Messages without a table row are already in the reader's words.
    const own = refusalView({ code: 'client', message: "'a.zip' is not a Flashline package" }, codes);
    assert.equal(own.message, "'a.zip' is not a Flashline package");
    assert.deepEqual(own.details, []);
  });
});

describe('units per hour', () => {
  const MIN = 60_000;
  it('is withheld until enough units passed, then taken over the real window', () => {
    const start = 0;
    // Two units in the first minute: no "120 / hour" extrapolated from them.
    assert.equal(unitsPerHour([30_000, 60_000], start, 60_000).value, null);
    assert.match(unitsPerHour([30_000, 60_000], start, 60_000).basis, /2 so far/);
    // Ten units in 10 minutes: 60 / hour.
    const ten = Array.from({ length: 10 }, (_, i) => (i + 1) * MIN);
    const r = unitsPerHour(ten, start, 10 * MIN);
    assert.equal(r.value, 60);
    assert.equal(r.basis, '10 units in 10 min');
    // An hour later only the last 15 minutes count: 15 units in them → 60 / hour; older ones do not.
    const steady = Array.from({ length: 75 }, (_, i) => (i + 1) * MIN);
    assert.equal(unitsPerHour(steady, start, 75 * MIN).value, 60);
    assert.equal(unitsPerHour(steady, start, 75 * MIN).basis, '15 units in the last 15 min');
    // The line stopped 20 minutes ago: nothing in the window, no rate.
    assert.equal(unitsPerHour(steady, start, 95 * MIN).value, null);
    assert.equal(MIN_UNITS_FOR_RATE, 5);
  });

  it('counts outcomes and feeds the chart with the same windowed rate', () => {
    const done = (i: number): JobView => ({
      jobId: `d${i}`,
      deviceId: `d${i}`,
      state: 'done',
      stage: 'postcheck',
      bytesDone: 0,
      bytesTotal: 0,
      rate: 0,
      eta: null,
      percent: 100,
      startedAtMs: 0,
      samples: [],
      endedAt: new Date((i + 1) * MIN).toISOString(),
    });
    const jobs = [...Array.from({ length: 6 }, (_, i) => done(i)), { ...done(9), state: 'failed' as const }];
    const c = factoryCounters(jobs, 0, 6 * MIN);
    assert.equal(c.passed, 6);
    assert.equal(c.failed, 1);
    assert.equal(c.inProgress, 0);
    assert.equal(c.unitsPerHour.value, 60);
    const series = unitsPerHourSeries(
      [1, 2, 3, 4, 5, 6].map((m) => m * MIN),
      0,
      6 * MIN,
      6,
    );
    assert.deepEqual(series.times, [60, 120, 180, 240, 300, 360]);
    assert.deepEqual(series.values, [null, null, null, null, 60, 60]);
  });
});

describe('interrupted jobs', () => {
  const job: InterruptedJob = {
    jobId: 'j1',
    deviceId: 'tcp:h:1',
    package: { id: 'flashline-demo', version: '2.0.0', sha256: 'aa', path: '/p.flp' },
    serial: 'DEMO001',
    stoppedDuring: 'download',
  };
  it('says what stopped where, and resumes only with the device connected and free', () => {
    const here = interruptedLine(job, [dev('tcp:h:1', 'h:1', 'DEMO001')]);
    assert.equal(here.what, 'Stopped while downloading: flashline-demo 2.0.0');
    assert.equal(here.label.full, 'Flashline Virtual · DEMO001');
    assert.equal(here.cannotResume, null);
    assert.match(interruptedLine(job, []).cannotResume ?? '', /Connect DEMO001/);
    assert.match(
      interruptedLine(job, [dev('tcp:h:1', 'h:1', 'DEMO001', { state: 'busy' })]).cannotResume ?? '',
      /busy/,
    );
    assert.match(
      interruptedLine({ ...job, package: { id: 'p', version: '1', sha256: 'aa' } }, [dev('tcp:h:1', 'h:1')])
        .cannotResume ?? '',
      /package file/,
    );
  });
});
