/**
 * The rescue API over a real registry with the rescue flow stubbed at its contract (RunRescue): inputs
 * validated, only a ready device in EDL accepted, the device held busy while the job runs, progress
 * throttled with every stage change passing, the report at the end, a came-back device handed over.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RescueEvent, RescueJobs } from '../../../main/api/rescue-jobs.js';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import type { RescueReport, RescueRequest, RunRescue } from '../../../main/flash/rescue/contract.js';

const EDL = 'edl:127.0.0.1:9008';

function report(req: RescueRequest, status: number, extra: Partial<RescueReport> = {}): RescueReport {
  return {
    jobId: 'r1',
    deviceId: req.deviceId,
    startedAt: new Date(0).toISOString(),
    endedAt: new Date(1).toISOString(),
    status,
    statusName: status === 0 ? 'ok' : 'install_failed',
    message: status === 0 ? 'Rescued.' : 'The device refused a write.',
    remedy: 'Nothing to do.',
    identity: { serial: '1234abcd' },
    package: { id: 'rescue', version: '1', sha256: 'ab' },
    backups: [],
    deviceLog: ['INFO: programmed'],
    stages: [],
    ...extra,
  };
}

function setup(run: RunRescue, now = () => 0) {
  const devices = new DeviceRegistry();
  devices.upsert({
    id: EDL,
    connection: 'tcp',
    address: '127.0.0.1:9008',
    mode: 'edl',
    state: 'ready',
    serial: '1234abcd',
  });
  const cameBack: string[] = [];
  const rescue = new RescueJobs({
    devices,
    run,
    backupRoot: '/station/backups',
    onCameBack: (id) => cameBack.push(id),
    now,
  });
  const caller = createCallerFactory(appRouter)({
    version: 't',
    mode: 'station',
    devices,
    demo: false,
    rescue,
  });
  return { devices, rescue, caller, cameBack };
}

async function collect(rescue: RescueJobs, until: (e: RescueEvent) => boolean): Promise<RescueEvent[]> {
  const out: RescueEvent[] = [];
  const ac = new AbortController();
  for await (const e of rescue.events(ac.signal)) {
    out.push(e);
    if (until(e)) ac.abort();
  }
  return out;
}

describe('rescue API', () => {
  it('runs a rescue: busy while it runs, throttled progress, report, device handed over', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let seen: RescueRequest | undefined;
    let clock = 0;
    const { devices, rescue, caller, cameBack } = setup(
      async (req, onProgress) => {
        seen = req;
        await gate;
        // 10 updates of one stage at the same instant: the first and the final pass; then a new stage.
        for (let i = 1; i <= 10; i++)
          onProgress({ stage: 'program', bytesDone: i * 10, bytesTotal: 100, rate: 1e6 });
        clock += 1000;
        onProgress({ stage: 'patch', bytesDone: 0, bytesTotal: 0, rate: 0 });
        return report(req, 0, { cameBackAs: 'tcp:127.0.0.1:9008' });
      },
      () => clock,
    );
    const events = collect(rescue, (e) => e.type === 'end');
    const job = await caller.rescue.start({
      deviceId: EDL,
      packagePath: '/p/rescue.flp',
      backupPartitions: ['boot'],
      comeBackDeviceId: 'tcp:127.0.0.1:5554',
    });
    assert.equal(devices.get(EDL)?.state, 'busy');
    await assert.rejects(caller.rescue.start({ deviceId: EDL, packagePath: '/p/rescue.flp' }), /busy/);
    release();
    const all = await events;
    assert.deepEqual(
      all.map((e) => (e.type === 'progress' ? `${e.progress.stage}:${e.progress.bytesDone}` : e.type)),
      ['started', 'program:10', 'program:100', 'patch:0', 'end'],
    );
    const end = all.at(-1);
    assert.ok(end?.type === 'end');
    assert.equal(end.report.status, 0);
    assert.equal(end.jobId, job.jobId);
    // The rescue runs as the station's job: its report can carry the job view's id and start.
    assert.deepEqual(seen?.job, { jobId: job.jobId, startedAt: job.startedAt });
    assert.deepEqual(seen?.comeBack, { deviceId: 'tcp:127.0.0.1:5554' });
    assert.deepEqual(seen?.backup?.partitions, ['boot']);
    assert.match(seen?.backup?.dir ?? '', /^\/station\/backups\/1234abcd-/);
    assert.deepEqual(cameBack, ['tcp:127.0.0.1:9008']);
    // The EDL port is not probed again: it says what happened.
    assert.equal(devices.get(EDL)?.state, 'gone');
    assert.match(devices.get(EDL)?.note ?? '', /rescued; back as tcp:127\.0\.0\.1:9008/);
    assert.deepEqual(await caller.rescue.packages(), [
      { path: '/p/rescue.flp', id: 'rescue', version: '1', sha256: 'ab' },
    ]);
    const [listed] = await caller.rescue.list();
    assert.equal(listed?.state, 'ended');
    assert.equal(listed?.report?.deviceLog[0], 'INFO: programmed');
  });

  it('a failed rescue frees the device; a fault in the flow still ends as a report', async () => {
    const { devices, rescue, caller } = setup(async () => {
      throw new Error('flow broke');
    });
    const events = collect(rescue, (e) => e.type === 'end');
    await caller.rescue.start({ deviceId: EDL, packagePath: '/p/rescue.flp' });
    const end = (await events).at(-1);
    assert.ok(end?.type === 'end');
    assert.equal(end.report.status, 10);
    assert.equal(end.report.message, 'flow broke');
    // A package the flow never verified is not offered again.
    assert.deepEqual(await caller.rescue.packages(), []);
    assert.equal(devices.get(EDL)?.state, 'ready');
  });

  it('cancel reaches the flow through its signal', async () => {
    const { rescue, caller } = setup(
      (req) =>
        new Promise((resolve) =>
          req.signal?.addEventListener('abort', () => resolve(report(req, 10, { message: 'cancelled' }))),
        ),
    );
    const events = collect(rescue, (e) => e.type === 'end');
    const job = await caller.rescue.start({ deviceId: EDL, packagePath: '/p/rescue.flp' });
    assert.deepEqual(await caller.rescue.cancel({ jobId: job.jobId }), { cancelled: true });
    const end = (await events).at(-1);
    assert.ok(end?.type === 'end');
    assert.equal(end.report.message, 'cancelled');
    assert.deepEqual(await caller.rescue.cancel({ jobId: job.jobId }), { cancelled: false });
  });

  it('refuses bad input and devices not in EDL, sending nothing', async () => {
    let runs = 0;
    const { devices, caller } = setup(async (req) => {
      runs++;
      return report(req, 0);
    });
    await assert.rejects(
      caller.rescue.start({ deviceId: EDL, packagePath: '/p', backupPartitions: ['../etc'] }),
      /partition label/,
    );
    await assert.rejects(caller.rescue.start({ deviceId: 'edl:nowhere:1', packagePath: '/p' }), /No device/);
    await assert.rejects(
      caller.rescue.start({ deviceId: EDL, packagePath: '/p', comeBackDeviceId: 'rm -rf' }),
      /a device id such as tcp:HOST:PORT/,
    );
    devices.upsert({
      id: 'tcp:h:1',
      connection: 'tcp',
      address: 'h:1',
      mode: 'fastboot',
      state: 'ready',
      serial: 's',
      product: 'p',
    });
    await assert.rejects(
      caller.rescue.start({ deviceId: 'tcp:h:1', packagePath: '/p' }),
      /Flash it normally/,
    );
    devices.update(EDL, { state: 'error', note: 'no Sahara answer' });
    await assert.rejects(
      caller.rescue.start({ deviceId: EDL, packagePath: '/p' }),
      /not ready \(error: no Sahara answer\)/,
    );
    assert.equal(runs, 0);
  });

  it('is unavailable where no rescue service runs', async () => {
    const caller = createCallerFactory(appRouter)({
      version: 't',
      mode: 'station',
      devices: new DeviceRegistry(),
      demo: false,
    });
    await assert.rejects(caller.rescue.list(), /Rescue is not available/);
  });
});
