import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { FlashManager } from '../../../main/flash/manager.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import type { FlashServiceApi } from '../../../main/flash/service-api.js';
import { bootImage, FakeConnector, FakeDevice, memoryPackage } from './fake-device.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-api-'));
after(() => rmSync(home, { recursive: true, force: true }));

describe('jobs.* and packages.* API', () => {
  it('starts, reports and lists jobs; rejects bad input as data', async () => {
    const connector = new FakeConnector();
    connector.devices.set('tcp:127.0.0.1:1', new FakeDevice('S1'));
    const reports = new ReportStore(join(home, 'reports'));
    const manager = new FlashManager({
      connector,
      reports,
      concurrency: 2,
      engine: {
        journalDir: join(home, 'journal'),
        timeouts: { commandMs: 500, minDownloadBytesPerSecond: 1e7, rebootMs: 500, connectMs: 200 },
        retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 10 },
        pieceSize: 1 << 20,
        minBatteryPercent: 25,
      },
    });
    const pkg = memoryPackage([{ partition: 'boot', data: bootImage('2.0', 32 * 1024) }]);
    const flash: FlashServiceApi = {
      manager,
      reports,
      openPackage: async () => pkg,
      packages: () => [],
      flash: async (_path, ids) => ids.map((deviceId) => manager.start({ deviceId, pkg })),
    };
    const caller = createCallerFactory(appRouter)({
      version: 't',
      mode: 'station',
      devices: new DeviceRegistry(),
      demo: false,
      flash,
    });
    const { jobIds } = await caller.jobs.start({ packagePath: '/x.flp', deviceIds: ['tcp:127.0.0.1:1'] });
    assert.equal(jobIds.length, 1);
    await manager.wait(jobIds[0]!);
    assert.equal((await caller.jobs.list())[0]?.state, 'done');
    const list = await caller.jobs.reports({});
    assert.equal(list[0]?.status, 0);
    await assert.rejects(caller.jobs.start({ packagePath: '', deviceIds: [] }));
    const without = createCallerFactory(appRouter)({
      version: 't',
      mode: 'station',
      devices: new DeviceRegistry(),
      demo: false,
    });
    await assert.rejects(without.jobs.list(), /not available/);
  });
});
