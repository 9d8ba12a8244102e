import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { EngineOptions } from '../../../main/flash/context.js';
import type { JobEvent } from '../../../main/flash/events.js';
import { runJob } from '../../../main/flash/job.js';
import { listInterrupted, readJournal } from '../../../main/flash/journal.js';
import type { FlashPackage } from '../../../main/flash/ports.js';
import {
  bootImage,
  FakeConnector,
  FakeDevice,
  type FakeFaults,
  fastEngineOptions,
  memoryPackage,
} from './fake-device.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-engine-'));
after(() => rmSync(home, { recursive: true, force: true }));

function options(extra: Partial<EngineOptions> = {}): EngineOptions {
  return fastEngineOptions(join(home, 'journal'), extra);
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const boot = bootImage('2.0', 64 * 1024);
const system = bootImage('sys', 1024 * 1024);

function pkg(extra: Partial<FlashPackage> & { corrupt?: string } = {}): FlashPackage {
  return memoryPackage(
    [
      { partition: 'boot', data: boot },
      { partition: 'system', data: system },
    ],
    extra,
  );
}

async function run(faults: FakeFaults = {}, p = pkg(), opts = options(), setup?: (d: FakeDevice) => void) {
  const connector = new FakeConnector();
  const device = new FakeDevice('SER1', faults);
  setup?.(device);
  connector.devices.set('fake:1', device);
  const events: JobEvent[] = [];
  const report = await runJob({
    deviceId: 'fake:1',
    pkg: p,
    connector,
    options: opts,
    emit: (e) => events.push(e),
  });
  return { report, device, events };
}

describe('flash engine against an in-memory device', () => {
  it('updates the inactive slot, verifies, switches and commits', async () => {
    const { report, device, events } = await run();
    assert.equal(report.status, 0, report.message);
    assert.equal(device.active, 'b');
    assert.equal(device.sha('boot_b'), sha256(boot), 'the inactive slot holds the package image');
    assert.equal(device.sha('system_b'), sha256(system));
    assert.equal(device.partitions.get('boot_a')!.length, 0, 'active slot never written');
    assert.equal(report.deviceVerification, 'ok');
    assert.deepEqual(
      report.stages.map((s) => s.stage),
      ['preflight', 'download', 'verify', 'install', 'switch', 'postcheck'],
    );
    assert.equal(report.device.versionAfter, '2.0');
    // Progress never goes backwards within a stage.
    const last = new Map<string, number>();
    for (const e of events) {
      if (e.type !== 'progress') continue;
      const key = `${e.stage}`;
      assert.ok(e.bytesDone >= (last.get(key) ?? 0), `progress went backwards in ${key}`);
      last.set(key, e.bytesDone);
    }
    const end = events.at(-1);
    assert.equal(end?.type, 'end');
    const journal = await readJournal(join(home, 'journal', `${report.jobId}.jsonl`));
    assert.equal(journal?.end?.status, 0);
  });

  it('sends large images as sparse pieces that reassemble exactly', async () => {
    const { report, device } = await run();
    assert.equal(report.status, 0);
    assert.equal(device.sha('system_b'), sha256(system));
    assert.ok(device.flashCount >= 5, `system went in ${device.flashCount - 1} pieces`);
  });

  const refusals: [string, number, (d: FakeDevice) => void, Partial<FlashPackage>?][] = [
    ['wrong product', 27, (d) => d.vars.set('product', 'other-phone')],
    ['device rollback index above the package', 26, (d) => d.vars.set('rollback-index', '5')],
    ['hardware revision not supported', 27, () => undefined, { hardwareRevisions: ['rev9'] }],
    ['bootloader too old', 27, () => undefined, { minBootloader: '3.1' }],
    ['no A/B slots', 33, (d) => d.vars.set('slot-count', '1')],
    ['partition too small', 13, (d) => d.addPartition('system_b', 512 * 1024)],
    ['not enough free space', 13, (d) => d.vars.set('free-space', '1000')],
    ['battery low', 16, (d) => d.vars.set('battery-level', '5')],
    ['download buffer too small', 14, (d) => d.vars.set('max-download-size', '0x800')],
    ['malformed size reply', 17, (d) => d.vars.set('max-download-size', 'lots')],
  ];
  for (const [name, code, setup, extra] of refusals) {
    it(`refuses in preflight: ${name} → ${code}, nothing written`, async () => {
      const { report, device } = await run({}, pkg(extra), options(), setup);
      assert.equal(report.status, code, report.message);
      assert.equal(device.flashCount, 0);
      assert.equal(device.active, 'a');
      assert.ok(!report.message.includes('    at '), 'no stack trace in the message');
    });
  }

  it('refuses a package below the station rollback record', async () => {
    const opts = options({ rollbackRecord: { highest: async () => 7, record: async () => undefined } });
    const { report, device } = await run({}, pkg(), opts);
    assert.equal(report.status, 26);
    assert.equal(device.flashCount, 0);
  });

  it('records the rollback index at the station after success', async () => {
    const recorded: [string, number][] = [];
    const opts = options({
      rollbackRecord: { highest: async () => undefined, record: async (p, i) => void recorded.push([p, i]) },
    });
    const { report } = await run({}, pkg(), opts);
    assert.equal(report.status, 0);
    assert.deepEqual(recorded, [['flashline-virtual', 2]]);
  });

  it('resumes after a cable pull at the next piece, not the start', async () => {
    const { report, device } = await run({ dropAtByte: 600 * 1024, offlineAttempts: 1 });
    assert.equal(report.status, 0, report.message);
    assert.ok(report.resumes >= 1);
    const total = boot.length + system.length;
    assert.ok(
      device.downloaded < total + 300 * 1024,
      `resent only the interrupted piece (${device.downloaded} bytes)`,
    );
    assert.equal(device.active, 'b');
  });

  it('gives up with 11 when the device never comes back', async () => {
    const { report, device } = await run({ dropAtByte: 100 * 1024, offlineAttempts: 1000 });
    assert.equal(report.status, 11, report.message);
    assert.equal(device.active, 'a');
  });

  it('rewrites an image once when the device lost acknowledged writes', async () => {
    const { report, device } = await run({ dropAtByte: 900 * 1024, loseLastWriteOnDrop: true });
    assert.equal(report.status, 0, report.message);
    assert.equal(device.active, 'b');
  });

  it('falls back to 42 when the new slot does not boot, leaving the old slot active', async () => {
    const { report, device } = await run({ badBoot: 'b' });
    assert.equal(report.status, 42, report.message);
    assert.equal(device.active, 'a');
  });

  it('fails with 43 and rolls back when the device runs the wrong version', async () => {
    const { report, device } = await run({ versionAfterBoot: '1.9' });
    assert.equal(report.status, 43, report.message);
    assert.equal(device.active, 'a');
  });

  it('says so when device-side verification is not available', async () => {
    const { report } = await run({ noSha256: true });
    assert.equal(report.status, 0);
    assert.equal(report.deviceVerification, 'not-available');
    assert.ok(report.messages.some((m) => m.includes('device-side verification not available')));
  });

  it('turns garbage replies into 17', async () => {
    const { report } = await run({ garbage: true });
    assert.equal(report.status, 17);
  });

  it('bounds a hanging device: timeout, retries, then 12', async () => {
    const fast = options({
      timeouts: {
        commandMs: 150,
        minDownloadBytesPerSecond: 100 * 1024 * 1024,
        rebootMs: 500,
        connectMs: 100,
      },
    });
    const { report, device } = await run({ hang: ['flash:'] }, pkg(), fast);
    assert.equal(report.status, 12, report.message);
    assert.equal(device.active, 'a');
  });

  it('reports an unreachable device as 15 without hanging', async () => {
    const report = await runJob({
      deviceId: 'fake:nowhere',
      pkg: pkg(),
      connector: new FakeConnector(),
      options: options(),
      emit: () => undefined,
    });
    assert.equal(report.status, 15);
    assert.match(report.message, /flashline devices/);
  });

  it('maps a device write refusal to 31', async () => {
    const { report } = await run({ failFlash: true });
    assert.equal(report.status, 31);
  });

  it('stops before flashing the piece whose package hash fails (28)', async () => {
    const { report, device } = await run({}, pkg({ corrupt: 'boot' }));
    assert.equal(report.status, 28, report.message);
    assert.equal(device.flashCount, 0);
  });

  it('cancels safely mid-download with 18; the active slot is untouched', async () => {
    const connector = new FakeConnector();
    const device = new FakeDevice('SER1', { hang: ['flash:system'] });
    connector.devices.set('fake:1', device);
    const controller = new AbortController();
    const report = await runJob({
      deviceId: 'fake:1',
      pkg: pkg(),
      connector,
      options: options({
        timeouts: { commandMs: 60_000, minDownloadBytesPerSecond: 1e7, rebootMs: 1000, connectMs: 300 },
      }),
      signal: controller.signal,
      emit: (e) => {
        if (e.type === 'stage' && e.stage === 'download') setTimeout(() => controller.abort(), 20);
      },
    });
    assert.equal(report.status, 18);
    assert.equal(device.active, 'a');
    assert.equal(device.partitions.get('boot_a')!.length, 0);
  });

  it('resumes an interrupted job from its journal, skipping written pieces', async () => {
    const connector = new FakeConnector();
    const device = new FakeDevice('SER1', { hang: ['flash:system_b'] });
    connector.devices.set('fake:1', device);
    const opts = options({
      journalDir: join(home, 'journal-resume'),
      retry: { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 },
    });
    const first = await runJob({
      deviceId: 'fake:1',
      pkg: pkg(),
      connector,
      options: opts,
      emit: () => undefined,
    });
    assert.equal(first.status, 12);
    // Simulate a crash: drop the end record so the journal looks like Flashline died mid-job.
    const { readFileSync, writeFileSync } = await import('node:fs');
    const path = join(opts.journalDir, `${first.jobId}.jsonl`);
    writeFileSync(
      path,
      `${readFileSync(path, 'utf8')
        .split('\n')
        .filter((l) => l && !l.includes('"type":"end"'))
        .join('\n')}\n{"type":"pie`,
    );
    const interrupted = await listInterrupted(opts.journalDir);
    assert.equal(interrupted.length, 1);
    const state = interrupted[0]!;
    assert.equal(state.pieces.get('boot_b')?.size, 1);
    device.faults.hang = [];
    const before = device.downloaded;
    const second = await runJob({
      deviceId: 'fake:1',
      pkg: pkg(),
      connector,
      options: opts,
      emit: () => undefined,
      resume: state,
    });
    assert.equal(second.status, 0, second.message);
    assert.equal(second.jobId, first.jobId);
    assert.ok(device.downloaded - before <= system.length + 4096, 'boot was not sent again');
  });
});
