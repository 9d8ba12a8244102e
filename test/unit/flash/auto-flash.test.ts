/**
 * Auto-flash acts on readiness, once per presence: a device first seen while identifying is flashed when
 * it becomes ready; its own re-identification after the job is not a new arrival; a re-plugged unit that
 * passed is skipped with a reason (unless forced), one that failed only with retryFailed; an interrupted
 * job of a returning unit is resumed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type DeviceInfo, DeviceRegistry } from '../../../main/devices/index.js';
import { type AutoFlashOptions, startAutoFlash } from '../../../main/flash/auto-flash.js';
import { Journal, readJournal } from '../../../main/flash/journal.js';
import { FlashManager } from '../../../main/flash/manager.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import { bootImage, FakeConnector, FakeDevice, fakeEngine, memoryPackage } from './fake-device.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-autoflash-'));
after(() => rmSync(home, { recursive: true, force: true }));
let n = 0;
const pkg = memoryPackage([{ partition: 'boot', data: bootImage('2.0', 64 * 1024) }]);

function setup(devices: Record<string, FakeDevice>) {
  const dir = join(home, String(n++));
  const connector = new FakeConnector();
  for (const [id, d] of Object.entries(devices)) connector.devices.set(id, d);
  const engine = fakeEngine(join(dir, 'journal'));
  const reports = new ReportStore(join(dir, 'reports'));
  const manager = new FlashManager({ engine, connector, reports, concurrency: 4 });
  const registry = new DeviceRegistry();
  const skipped: string[] = [];
  const started: { id: string; resumed: boolean }[] = [];
  const run = (extra: Partial<AutoFlashOptions> = {}) =>
    startAutoFlash({
      registry,
      manager,
      pkg,
      reports,
      onSkip: (d, reason) => skipped.push(`${d.id}: ${reason}`),
      onStart: (d, _job, resumed) => started.push({ id: d.id, resumed }),
      ...extra,
    });
  return { dir, manager, reports, registry, skipped, started, run, engine };
}

const ready = (id: string, serial: string): DeviceInfo => ({
  id,
  connection: 'usb',
  address: id,
  mode: 'fastboot',
  state: 'ready',
  product: 'flashline-virtual',
  serial,
});

/** Let released devices be re-identified (and any reaction to that happen). */
const settle = () => new Promise((r) => setTimeout(r, 20));

describe('auto-flash', () => {
  it('flashes a device that was identifying when seen, once it is ready; its re-identification is no new arrival', async () => {
    const t = setup({ 'usb:A1': new FakeDevice('A1') });
    const stop = await t.run();
    // USB: added while identifying (no product yet), like a freshly plugged phone.
    t.registry.upsert({ ...ready('usb:A1', 'A1'), state: 'identifying', product: undefined }, async () =>
      ready('usb:A1', 'A1'),
    );
    assert.equal(t.started.length, 0, 'nothing happens on first sight');
    t.registry.upsert(ready('usb:A1', 'A1'));
    await t.manager.waitAll();
    await settle();
    stop();
    assert.deepEqual(t.started, [{ id: 'usb:A1', resumed: false }]);
    assert.equal(t.registry.get('usb:A1')?.state, 'ready', 'busy during the job, ready after it');
    assert.equal((await t.reports.list()).length, 1);
  });

  it('skips a re-plugged unit that passed, with the reason; force flashes it again', async () => {
    const t = setup({ 'usb:A1': new FakeDevice('A1') });
    const stop = await t.run();
    t.registry.upsert(ready('usb:A1', 'A1'));
    await t.manager.waitAll();
    t.registry.remove('usb:A1');
    t.registry.upsert(ready('usb:A1', 'A1'));
    await settle();
    stop();
    assert.equal(t.started.length, 1);
    assert.match(t.skipped.join('\n'), /usb:A1: serial A1 already passed with this package/);

    // A new run (the history knows the unit) skips it from the start; with force it is flashed.
    const again = await t.run();
    again();
    assert.equal(t.started.length, 1);
    const forced = await t.run({ force: true });
    await t.manager.waitAll();
    forced();
    assert.equal(t.started.length, 2);
  });

  it('skips a re-plugged unit that failed unless retryFailed', async () => {
    const device = new FakeDevice('F1', { failFlash: true });
    const t = setup({ 'usb:F1': device });
    const stop = await t.run();
    t.registry.upsert(ready('usb:F1', 'F1'));
    await t.manager.waitAll();
    t.registry.remove('usb:F1');
    t.registry.upsert(ready('usb:F1', 'F1'));
    await settle();
    stop();
    assert.equal(t.started.length, 1);
    assert.match(t.skipped.join('\n'), /serial F1 failed with this package \(code 31\)/);

    // The same line with the retry policy: the unit is flashed again when it comes back.
    const r = setup({ 'usb:F1': device });
    const retrying = await r.run({ retryFailed: true });
    r.registry.upsert(ready('usb:F1', 'F1'));
    await r.manager.waitAll();
    r.registry.remove('usb:F1');
    device.faults.failFlash = false;
    r.registry.upsert(ready('usb:F1', 'F1'));
    await r.manager.waitAll();
    retrying();
    assert.deepEqual(
      (await r.reports.list()).map((x) => x.status),
      [31, 0],
    );
    assert.deepEqual(r.skipped, []);
  });

  it('resumes the interrupted job of a unit that comes back', async () => {
    const t = setup({ 'usb:R1': new FakeDevice('R1') });
    // A job a previous process left behind after preflight (journal without end).
    const journal = Journal.at(t.engine.journalDir, 'job-left-behind');
    await journal.begin({
      type: 'start',
      jobId: 'job-left-behind',
      deviceId: 'usb:old-id',
      package: { id: pkg.id, version: pkg.version, sha256: pkg.sha256 },
    });
    await journal.append({
      type: 'plan',
      serial: 'R1',
      product: 'flashline-virtual',
      targetSlot: 'b',
      oldSlot: 'a',
      pieceSize: 256 * 1024,
    });
    await journal.append({ type: 'stage', stage: 'download' });
    const stop = await t.run();
    t.registry.upsert(ready('usb:R1', 'R1'));
    const [report] = await t.manager.waitAll();
    stop();
    assert.deepEqual(t.started, [{ id: 'usb:R1', resumed: true }]);
    assert.equal(report?.jobId, 'job-left-behind');
    assert.equal(report?.status, 0, report?.message);
    // The resumed job's report is stored, so its journal has served and is gone: nothing is left interrupted.
    assert.equal((await t.reports.get('job-left-behind'))?.status, 0, 'the resumed job is in the history');
    assert.equal(await readJournal(journal.path).catch(() => undefined), undefined, 'the journal is removed');
    assert.deepEqual(await t.manager.interrupted(), []);
  });
});
