import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { parseSince } from '../../../main/cli/commands/report.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { startAutoFlash } from '../../../main/flash/auto-flash.js';
import type { EngineOptions } from '../../../main/flash/context.js';
import { FlashManager } from '../../../main/flash/manager.js';
import { ReportStore, reportsToCsv } from '../../../main/flash/report-store.js';
import { bootImage, FakeConnector, FakeDevice, memoryPackage } from './fake-device.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-manager-'));
after(() => rmSync(home, { recursive: true, force: true }));
let n = 0;

function setup(
  concurrency: number,
  devices: [string, FakeDevice][],
  keepFinished?: { count: number; ageMs: number },
) {
  const dir = join(home, String(n++));
  const connector = new FakeConnector();
  for (const [id, d] of devices) connector.devices.set(id, d);
  const engine: EngineOptions = {
    journalDir: join(dir, 'journal'),
    timeouts: { commandMs: 400, minDownloadBytesPerSecond: 10 << 20, rebootMs: 500, connectMs: 200 },
    retry: { attempts: 1, baseDelayMs: 5, maxDelayMs: 10 },
    pieceSize: 256 * 1024,
    minBatteryPercent: 25,
  };
  const reports = new ReportStore(join(dir, 'reports'));
  const manager = new FlashManager({
    engine,
    connector,
    reports,
    concurrency,
    ...(keepFinished ? { keepFinished } : {}),
  });
  return { manager, reports, journalDir: engine.journalDir };
}

const pkg = memoryPackage([{ partition: 'boot', data: bootImage('2.0', 64 * 1024) }]);

describe('job manager', () => {
  it('runs jobs in parallel; a hanging device does not stall the others', async () => {
    const devices: [string, FakeDevice][] = Array.from({ length: 8 }, (_, i) => [
      `fake:${i}`,
      new FakeDevice(`S${i}`, i === 2 ? { hang: ['download'] } : {}),
    ]);
    const { manager, reports } = setup(8, devices);
    const ids = devices.map(([id]) => manager.start({ deviceId: id, pkg }));
    const results = await Promise.all(ids.map((id) => manager.wait(id)));
    assert.deepEqual(
      results.map((r) => r.status),
      [0, 0, 12, 0, 0, 0, 0, 0],
    );
    assert.equal((await reports.list()).length, 8);
  });

  it('respects the concurrency limit', async () => {
    const devices: [string, FakeDevice][] = Array.from({ length: 5 }, (_, i) => [
      `fake:${i}`,
      new FakeDevice(`S${i}`),
    ]);
    const { manager } = setup(2, devices);
    let running = 0;
    let peak = 0;
    manager.subscribe((e) => {
      if (e.type === 'stage' && e.stage === 'preflight') peak = Math.max(peak, ++running);
      if (e.type === 'end') running--;
    });
    for (const [id] of devices) manager.start({ deviceId: id, pkg });
    const results = await manager.waitAll();
    assert.ok(results.every((r) => r.status === 0));
    assert.equal(peak, 2);
  });

  it('cancels a queued job without touching its device', async () => {
    const d = new FakeDevice('S1', { hang: ['download'] });
    const q = new FakeDevice('S2');
    const { manager } = setup(1, [
      ['fake:1', d],
      ['fake:2', q],
    ]);
    const first = manager.start({ deviceId: 'fake:1', pkg });
    const second = manager.start({ deviceId: 'fake:2', pkg });
    manager.cancel(second);
    manager.cancel(first);
    const [a, b] = await Promise.all([manager.wait(first), manager.wait(second)]);
    assert.equal(a.status, 18);
    assert.equal(b.status, 18);
    assert.equal(q.flashCount, 0);
  });

  it('auto-flashes newly connected devices once per serial unless forced', async () => {
    const devices: [string, FakeDevice][] = [
      ['fake:1', new FakeDevice('A1')],
      ['fake:2', new FakeDevice('A2')],
      ['fake:3', new FakeDevice('B1', {}, 'other-product')],
    ];
    const { manager, reports } = setup(4, devices);
    const registry = new DeviceRegistry();
    const skipped: string[] = [];
    const info = (id: string, serial: string, product = 'flashline-virtual') =>
      ({ id, connection: 'tcp', address: id, mode: 'fastboot', state: 'ready', serial, product }) as const;
    const reconnect = async (id: string, serial: string) => {
      registry.remove(id);
      registry.upsert(info(id, serial));
      await manager.waitAll();
    };
    const stop = await startAutoFlash({
      registry,
      manager,
      pkg,
      reports,
      onSkip: (d, reason) => skipped.push(`${d.id}: ${reason}`),
    });
    registry.upsert(info('fake:1', 'A1'));
    registry.upsert(info('fake:3', 'B1', 'other-product'));
    await manager.waitAll();
    await reconnect('fake:1', 'A1');
    await reconnect('fake:2', 'A2');
    stop();
    const serials = async () => (await reports.list()).map((r) => r.device.serial).sort();
    assert.deepEqual(await serials(), ['A1', 'A2'], 'A1 was not flashed a second time');
    assert.deepEqual(skipped.sort(), [
      'fake:1: serial A1 already passed with this package (force to flash it again)',
      'fake:3: product other-product is not supported by the package',
    ]);

    // Forced: a serial flashed before (also by an earlier run, from the report history) is flashed again.
    skipped.length = 0;
    const forced = await startAutoFlash({
      registry,
      manager,
      pkg,
      reports,
      force: true,
      onSkip: (d, reason) => skipped.push(`${d.id}: ${reason}`),
    });
    await manager.waitAll();
    await reconnect('fake:1', 'A1');
    forced();
    assert.deepEqual(await serials(), ['A1', 'A1', 'A1', 'A2', 'A2']);
    assert.deepEqual(skipped, ['fake:3: product other-product is not supported by the package']);
  });
});

describe('bounded growth', () => {
  it('keeps a bounded list of finished jobs, answers older ones from the store, leaves no journal', async () => {
    const devices: [string, FakeDevice][] = Array.from({ length: 6 }, (_, i) => [
      `fake:${i}`,
      new FakeDevice(`B${i}`),
    ]);
    const { manager, reports, journalDir } = setup(2, devices, { count: 2, ageMs: 60_000 });
    const ids = devices.map(([id]) => manager.start({ deviceId: id, pkg }));
    await manager.waitAll();
    assert.ok(manager.list().length <= 2, `listed ${manager.list().length}`);
    // The first job left the list; its report is still the answer to wait().
    const first = await manager.wait(ids[0] as string);
    assert.equal(first.status, 0);
    assert.equal(first.device.serial, 'B0');
    assert.equal(await reports.count(), 6);
    // Each journal went once its report was stored: interrupted() reads an empty directory.
    assert.deepEqual(readdirSync(journalDir), []);
    assert.deepEqual(await manager.interrupted(), []);
  });

  it('drops finished jobs older than the age bound', async () => {
    const { manager } = setup(1, [['fake:1', new FakeDevice('C1')]], { count: 100, ageMs: 0 });
    await manager.wait(manager.start({ deviceId: 'fake:1', pkg }));
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(manager.list(), []);
  });
});

describe('report export', () => {
  it('exports CSV with quoting and formula neutralising', async () => {
    const { manager, reports } = setup(1, [
      ['fake:1', new FakeDevice('S,1', { failFlash: true })],
      ['fake:2', new FakeDevice('=HYPERLINK("http://x")')],
      ['fake:3', new FakeDevice('@SUM(A1)')],
    ]);
    for (const id of ['fake:1', 'fake:2', 'fake:3']) await manager.wait(manager.start({ deviceId: id, pkg }));
    const csv = reportsToCsv(await reports.list());
    const lines = csv.trim().split('\n');
    assert.ok(lines[0]?.startsWith('jobId,deviceId,serial'));
    const row = (deviceId: string) => lines.find((l) => l.includes(`,${deviceId},`)) ?? '';
    assert.match(row('fake:1'), /,"S,1",/, 'a comma is quoted');
    assert.match(row('fake:1'), /,31,write_refused,/);
    // Device-controlled text that a spreadsheet would run as a formula starts with a quote mark instead.
    assert.match(row('fake:2'), /,"'=HYPERLINK\(""http:\/\/x""\)",/);
    assert.match(row('fake:3'), /,'@SUM\(A1\),/);
    assert.match(row('fake:3'), /,0,ok,/, 'numbers are left as they are');
  });

  it('parses --since as ISO time or relative age', () => {
    assert.equal(parseSince('2026-01-31').toISOString(), '2026-01-31T00:00:00.000Z');
    assert.equal(parseSince('24h', 100 * 3_600_000).getTime(), 76 * 3_600_000);
    assert.throws(() => parseSince('yesterday'), /ISO date/);
  });
});
