import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { startAutoFlash } from '../../../main/flash/auto-flash.js';
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
    let autoFlash: { enabled: boolean; packagePath: string | null } = { enabled: false, packagePath: null };
    const flash: FlashServiceApi = {
      manager,
      reports,
      openPackage: async () => ({
        ...pkg,
        signerKeyIds: ['k1'],
        created: '2026-01-01T00:00:00Z',
        expires: '2027-01-01T00:00:00Z',
        encrypted: false,
      }),
      packages: () => [],
      forgetPackage: () => {},
      flash: async (_path, ids) => ids.map((deviceId) => manager.start({ deviceId, pkg })),
      setAutoFlash: async (registry, packagePath) => {
        if (packagePath) await startAutoFlash({ registry, manager, pkg, reports });
        autoFlash = { enabled: packagePath !== null, packagePath };
        return autoFlash;
      },
      getAutoFlash: () => autoFlash,
    };
    const registry = new DeviceRegistry();
    const caller = createCallerFactory(appRouter)({
      version: 't',
      mode: 'station',
      devices: registry,
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
    // Auto-flash on connect, through the API.
    connector.devices.set('tcp:127.0.0.1:2', new FakeDevice('S2'));
    assert.deepEqual(await caller.jobs.autoFlash({ packagePath: '/x.flp' }), {
      enabled: true,
      packagePath: '/x.flp',
    });
    registry.upsert({
      id: 'tcp:127.0.0.1:2',
      connection: 'tcp',
      address: '127.0.0.1:2',
      mode: 'fastboot',
      state: 'ready',
      product: 'flashline-virtual',
      serial: 'S2',
    });
    await manager.waitAll();
    assert.deepEqual((await caller.jobs.reports({})).map((r) => r.device.serial).sort(), ['S1', 'S2']);
    const without = createCallerFactory(appRouter)({
      version: 't',
      mode: 'station',
      devices: new DeviceRegistry(),
      demo: false,
    });
    await assert.rejects(without.jobs.list(), /not available/);
  });
});
