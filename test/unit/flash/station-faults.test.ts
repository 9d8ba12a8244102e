/**
 * Faults of the station itself are job failures: an injected write-failing disk (journal creation, a journal
 * append mid-job, the report) ends only the job that hit it, with 19 and a readable message; the others
 * finish 0. The process policy for unexpected rejections is checked in a child process (the test runner
 * has its own handler).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DiskIo, nodeDisk } from '../../../main/common/station-storage.js';
import { FlashManager } from '../../../main/flash/manager.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import { bootImage, FakeConnector, FakeDevice, fakeEngine, memoryPackage } from './fake-device.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-station-faults-'));
after(() => rmSync(home, { recursive: true, force: true }));
let n = 0;

/**
 * A disk whose writes fail with `code` when a written record matches `poison` (with `sticky`, that file's
 * writes fail from then on, as a journal's would): the fault hits exactly one job, as a full disk hits
 * whichever job writes next.
 */
function failingDisk(poison: (text: string) => boolean, code = 'ENOSPC', sticky = true): DiskIo {
  const bad = new Set<string>();
  return {
    async open(path, flags, mode) {
      const handle = await nodeDisk.open(path, flags, mode);
      return new Proxy(handle, {
        get(target, prop) {
          if (prop === 'write') {
            return async (data: string | Buffer, ...rest: unknown[]) => {
              if (bad.has(path) || poison(String(data))) {
                if (sticky) bad.add(path);
                throw Object.assign(new Error(`${code}: simulated, write '${path}'`), { code, path });
              }
              return (target.write as (...a: unknown[]) => Promise<unknown>)(data, ...rest);
            };
          }
          const v = Reflect.get(target, prop) as unknown;
          return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
        },
      }) as FileHandle;
    },
  };
}

function setup(disk: { journal?: DiskIo; reports?: DiskIo }) {
  const dir = join(home, String(n++));
  const connector = new FakeConnector();
  const devices = Array.from({ length: 4 }, (_, i) => new FakeDevice(`S${i}`));
  for (const [i, d] of devices.entries()) connector.devices.set(`fake:${i}`, d);
  const engine = fakeEngine(join(dir, 'journal'));
  const reports = new ReportStore(join(dir, 'history'), disk.reports ? { disk: disk.reports } : {});
  const manager = new FlashManager({
    engine,
    connector,
    reports,
    concurrency: 4,
    ...(disk.journal ? { disk: disk.journal } : {}),
  });
  return { manager, reports, devices, journalDir: engine.journalDir };
}

const pkg = memoryPackage([{ partition: 'boot', data: bootImage('2.0', 256 * 1024) }]);

async function runFour(manager: FlashManager) {
  const ids = [0, 1, 2, 3].map((i) => manager.start({ deviceId: `fake:${i}`, pkg }));
  return Promise.all(ids.map((id) => manager.wait(id)));
}

describe('station disk faults end one job, not the station', () => {
  it('a journal that cannot be created fails that job 19 before the device is touched', async () => {
    const { manager, reports, devices } = setup({
      journal: failingDisk((t) => t.includes('"type":"start"') && t.includes('"deviceId":"fake:2"')),
    });
    const results = await runFour(manager);
    assert.deepEqual(
      results.map((r) => r.status),
      [0, 0, 19, 0],
    );
    assert.match(
      results[2]?.message ?? '',
      /could not write the job journal .*: the disk is full \(ENOSPC\)/,
    );
    assert.equal(devices[2]?.downloaded, 0, 'the device was not touched');
    assert.equal(await reports.count(), 4, 'the failed job has its report too');
    assert.deepEqual(await manager.interrupted(), []);
  });

  it('a journal append failing mid-download fails that job 19; the others finish 0', async () => {
    let pieces = 0;
    const { manager, devices } = setup({
      journal: failingDisk((t) => t.includes('"type":"piece"') && ++pieces === 3, 'EROFS'),
    });
    const results = await runFour(manager);
    assert.equal(results.filter((r) => r.status === 0).length, 3);
    const failed = results.find((r) => r.status !== 0);
    assert.equal(failed?.status, 19);
    assert.equal(failed?.statusName, 'station_storage');
    assert.match(failed?.message ?? '', /read-only \(EROFS\)/);
    const i = results.indexOf(failed as (typeof results)[number]);
    assert.equal(devices[i]?.active, 'a', 'the failed unit stays on its working slot');
  });

  it('a report that cannot be stored ends that job 19 and says the device was updated', async () => {
    const { manager, reports, journalDir } = setup({
      // The report store's segment is shared by all jobs: only the record of fake:1 fails.
      reports: failingDisk((t) => t.includes('"deviceId":"fake:1"'), 'ENOSPC', false),
    });
    const events: number[] = [];
    manager.subscribe((e) => {
      if (e.type === 'end') events.push(e.status);
    });
    const results = await runFour(manager);
    assert.deepEqual(
      results.map((r) => r.status),
      [0, 19, 0, 0],
    );
    assert.match(
      results[1]?.message ?? '',
      /^The device was updated and committed, but Flashline could not write the job report/,
    );
    assert.deepEqual(events.sort(), [0, 0, 0, 19], 'subscribers see the final code');
    assert.equal(await reports.count(), 3);
    // The unstored job's journal stays, closed with an end record: not interrupted, nothing lost.
    assert.equal(readdirSync(journalDir).length, 1);
    assert.deepEqual(await manager.interrupted(), []);
  });

  it('the process policy fails the job an unexpected rejection belongs to and keeps serving', () => {
    const script = fileURLToPath(new URL('./fault-policy-child.ts', import.meta.url));
    const r = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(r.status, 0, r.stderr);
    const out = JSON.parse(r.stdout.trim().split('\n').at(-1) ?? '{}') as {
      statuses: number[];
      log: string[];
    };
    assert.deepEqual(out.statuses, [0, 10, 0], 'only the job whose code rejected failed');
    assert.equal(out.log.length, 1);
    assert.match(
      out.log[0] ?? '',
      /^unexpected error in job .+: stray failure .*that job is failed, the others go on/,
    );
  });
});
