/**
 * Run by station-faults.test.ts in its own process: with the process policy installed, a job whose code
 * leaves a rejected promise nobody awaits is failed (and logged), the other jobs finish, the process lives.
 * Prints one JSON line: the jobs' statuses and the policy's log.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installFaultPolicy } from '../../../main/common/fault-policy.js';
import { FlashManager } from '../../../main/flash/manager.js';
import type { DeviceSession, OpOptions } from '../../../main/flash/ports.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import { bootImage, FakeConnector, FakeDevice, fakeEngine, memoryPackage } from './fake-device.js';

const log: string[] = [];
installFaultPolicy({ log: (line) => log.push(line) });

class StrayConnector extends FakeConnector {
  override async connect(deviceId: string, o: OpOptions): Promise<DeviceSession> {
    // A bug in a job's code path: a promise rejected where nobody awaits it.
    if (deviceId === 'fake:1') void Promise.reject(new Error('stray failure'));
    return super.connect(deviceId, o);
  }
}

const dir = mkdtempSync(join(tmpdir(), 'flashline-fault-policy-'));
try {
  const connector = new StrayConnector();
  for (let i = 0; i < 3; i++) connector.devices.set(`fake:${i}`, new FakeDevice(`S${i}`));
  const manager = new FlashManager({
    connector,
    concurrency: 3,
    reports: new ReportStore(join(dir, 'history')),
    engine: fakeEngine(join(dir, 'journal')),
  });
  const pkg = memoryPackage([{ partition: 'boot', data: bootImage('2.0', 256 * 1024) }]);
  const ids = [0, 1, 2].map((i) => manager.start({ deviceId: `fake:${i}`, pkg }));
  const reports = await Promise.all(ids.map((id) => manager.wait(id)));
  process.stdout.write(`${JSON.stringify({ statuses: reports.map((r) => r.status), log })}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
