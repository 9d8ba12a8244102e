/**
 * jobs.* through the API against the real FlashService (its own home, the shipped demo trust key) and real
 * virtual devices over TCP: start, list, reports, cancel, auto-flash, the packages a running job holds, and
 * interrupted jobs resumed or closed by the service (the router only forwards).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { makeDemoPackage } from '../../../main/cli/commands/demo.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { Journal } from '../../../main/flash/journal.js';
import { FlashService } from '../../../main/flash/service.js';
import { startVirtualDevice } from '../../../virtual-device/index.js';

const root = mkdtempSync(join(tmpdir(), 'flashline-api-jobs-'));
after(() => rmSync(root, { recursive: true, force: true }));

const KiB = 1024;
const FAST = {
  engine: {
    timeouts: { commandMs: 5000, minDownloadBytesPerSecond: 1e6, rebootMs: 10_000, connectMs: 2000 },
  },
};

function callerFor(flash: FlashService | undefined, devices = new DeviceRegistry()) {
  return createCallerFactory(appRouter)({
    version: 't',
    mode: 'station',
    devices,
    demo: false,
    ...(flash ? { flash } : {}),
  });
}

describe('jobs.* API on the real flash service', () => {
  it('starts, lists, reports and auto-flashes jobs; holds the package while a job reads it', async () => {
    const home = join(root, 'run');
    const path = await makeDemoPackage(join(root, 'demo.flp'), { bootSize: 64 * KiB, systemSize: 256 * KiB });
    const one = await startVirtualDevice({ serial: 'API001', bootDelayMs: 20 });
    const two = await startVirtualDevice({ serial: 'API002', bootDelayMs: 20 });
    try {
      const flash = new FlashService({ home, ...FAST });
      const registry = new DeviceRegistry();
      const caller = callerFor(flash, registry);

      const { jobIds } = await caller.jobs.start({ packagePath: path, deviceIds: [one.address] });
      assert.equal(jobIds.length, 1);
      assert.deepEqual([...flash.packagesInUse()], [path], 'a queued job holds its package file');
      const report = await flash.manager.wait(jobIds[0]!);
      assert.equal(report.status, 0, report.message);
      assert.equal(flash.packagesInUse().size, 0, 'a finished job holds nothing');
      const listed = await caller.jobs.list();
      assert.deepEqual(
        listed.map((j) => [j.jobId, j.state, j.packagePath]),
        [[jobIds[0], 'done', path]],
      );
      const reports = await caller.jobs.reports({});
      assert.deepEqual(
        reports.map((r) => [r.jobId, r.status, r.device.serial]),
        [[jobIds[0], 0, 'API001']],
      );
      assert.deepEqual(await caller.jobs.cancel({ jobId: 'no-such-job' }), { cancelled: false });
      await assert.rejects(caller.jobs.start({ packagePath: '', deviceIds: [] }));

      // Auto-flash on connect, through the API: the package is in use while it is on.
      await caller.jobs.autoFlash({ packagePath: path });
      assert.ok(flash.packagesInUse().has(path));
      registry.upsert({
        id: two.address,
        connection: 'tcp',
        address: two.address.replace(/^tcp:/, ''),
        mode: 'fastboot',
        state: 'ready',
        product: 'flashline-virtual',
        serial: 'API002',
      });
      const auto = flash.listJobs().find((j) => j.deviceId === two.address);
      assert.ok(auto, 'auto-flash started a job for the connected device');
      assert.equal((await flash.manager.wait(auto.jobId)).status, 0);
      await caller.jobs.autoFlash({ packagePath: null });
      assert.equal(flash.packagesInUse().size, 0);
      assert.deepEqual((await caller.jobs.reports({})).map((r) => r.device.serial).sort(), [
        'API001',
        'API002',
      ]);
    } finally {
      await one.stop();
      await two.stop();
    }
    await assert.rejects(callerFor(undefined).jobs.list(), /not available/);
  });

  it('lists interrupted jobs and resumes or closes them through the service', async () => {
    const home = join(root, 'interrupted');
    const path = await makeDemoPackage(join(root, 'resume.flp'), {
      bootSize: 64 * KiB,
      systemSize: 64 * KiB,
    });
    const vd = await startVirtualDevice({ serial: 'API003', bootDelayMs: 20 });
    try {
      // What a Flashline process that stopped mid-download leaves behind.
      const sha256 = (await new FlashService({ home }).openPackage(path)).sha256;
      const journalDir = join(home, 'journal');
      const interrupted = async (jobId: string, pkgSha = sha256) => {
        const j = Journal.at(journalDir, jobId);
        await j.begin({
          type: 'start',
          jobId,
          deviceId: vd.address,
          package: { id: 'resume', version: '2.0.0', sha256: pkgSha, path },
        });
        await j.append({ type: 'stage', stage: 'download' });
      };
      await interrupted('job-resume');
      await interrupted('job-close');
      await interrupted('job-changed', 'f'.repeat(64));

      const flash = new FlashService({ home, ...FAST });
      const caller = callerFor(flash);
      assert.deepEqual(
        (await caller.jobs.interrupted()).map((j) => [j.jobId, j.deviceId, j.stoppedDuring]),
        [
          ['job-changed', vd.address, 'download'],
          ['job-close', vd.address, 'download'],
          ['job-resume', vd.address, 'download'],
        ],
      );
      await assert.rejects(
        caller.jobs.resolveInterrupted({ jobId: 'job-changed', action: 'resume' }),
        /no longer the one job job-changed was started with/,
      );
      assert.deepEqual(await caller.jobs.resolveInterrupted({ jobId: 'job-close', action: 'fail' }), {
        status: 18,
      });
      assert.deepEqual(await caller.jobs.resolveInterrupted({ jobId: 'job-resume', action: 'resume' }), {
        status: null,
      });
      const resumed = await flash.manager.wait('job-resume');
      assert.equal(resumed.status, 0, resumed.message);
      assert.equal(resumed.resumes, 1, 'the report says the job was resumed');
      assert.deepEqual(
        (await caller.jobs.interrupted()).map((j) => j.jobId),
        ['job-changed'],
      );
      await assert.rejects(
        caller.jobs.resolveInterrupted({ jobId: 'job-close', action: 'fail' }),
        /No interrupted job job-close/,
      );
      const byId = new Map((await caller.jobs.reports({})).map((r) => [r.jobId, r.status]));
      assert.equal(byId.get('job-close'), 18);
      assert.equal(byId.get('job-resume'), 0);
    } finally {
      await vd.stop();
    }
  });
});
