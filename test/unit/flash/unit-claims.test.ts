/**
 * The engine's side of "never twice the same unit" across stations (the UnitClaims port): a refused claim
 * ends the job with 38 before a byte is downloaded; an unchecked one (database unreachable) lets the job
 * run and says so in the report; auto-flash skips a unit another station holds, with the reason, before
 * any job exists. Without the port nothing changes (the other flash tests).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { type DeviceInfo, DeviceRegistry } from '../../../main/devices/index.js';
import { startAutoFlash } from '../../../main/flash/auto-flash.js';
import { FlashManager } from '../../../main/flash/manager.js';
import type { UnitClaimRequest, UnitClaimResult, UnitClaims } from '../../../main/flash/unit-claims.js';
import { bootImage, FakeConnector, FakeDevice, fakeEngine, memoryPackage } from './fake-device.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-claims-'));
after(() => rmSync(home, { recursive: true, force: true }));
const pkg = memoryPackage([{ partition: 'boot', data: bootImage('2.0', 64 * 1024) }]);
let n = 0;

class FakeClaims implements UnitClaims {
  readonly asked: UnitClaimRequest[] = [];
  constructor(
    readonly result: (serial: string) => UnitClaimResult,
    readonly holder: (serial: string) => string | undefined = () => undefined,
  ) {}
  async claim(r: UnitClaimRequest): Promise<UnitClaimResult> {
    this.asked.push(r);
    return this.result(r.serial);
  }
  async heldElsewhere(serial: string): Promise<string | undefined> {
    return this.holder(serial);
  }
}

function rig(claims: UnitClaims, devices: Record<string, FakeDevice>) {
  const connector = new FakeConnector();
  for (const [id, d] of Object.entries(devices)) connector.devices.set(id, d);
  const engine = { ...fakeEngine(join(home, String(n++), 'journal')), unitClaims: claims };
  return new FlashManager({ engine, connector, concurrency: 2 });
}

describe('unit claims in the engine', () => {
  it('a claim refused by another station ends the job with 38 before anything is downloaded', async () => {
    const device = new FakeDevice('U1');
    const claims = new FakeClaims(() => ({
      outcome: 'refused',
      reason: 'serial U1 was already flashed on station west',
    }));
    const manager = rig(claims, { 'usb:U1': device });
    const report = await manager.wait(manager.start({ deviceId: 'usb:U1', pkg }));
    assert.equal(report.status, 38);
    assert.equal(report.statusName, 'unit_claimed_elsewhere');
    assert.match(report.message, /already flashed on station west/);
    assert.equal(device.downloaded, 0);
    assert.equal(device.flashCount, 0);
    assert.deepEqual(
      claims.asked.map((a) => [a.serial, a.packageSha256]),
      [['U1', pkg.sha256]],
    );
  });

  it('an unchecked claim (database unreachable) lets the job run and is noted in the report', async () => {
    const device = new FakeDevice('U2');
    const claims = new FakeClaims(() => ({
      outcome: 'unchecked',
      reason: 'the fleet database is not reachable',
    }));
    const manager = rig(claims, { 'usb:U2': device });
    const report = await manager.wait(manager.start({ deviceId: 'usb:U2', pkg }));
    assert.equal(report.status, 0);
    assert.ok(device.flashCount > 0);
    assert.ok(
      report.unchecked?.some((s) =>
        /fleet unit claim: the fleet database is not reachable; .*duplicate check/.test(s),
      ),
    );
  });

  it('auto-flash skips a unit another station holds, with its reason, and flashes the others', async () => {
    const claims = new FakeClaims(
      () => ({ outcome: 'claimed' }),
      (serial) =>
        serial === 'H1' ? 'serial H1 is being flashed with this package on station east' : undefined,
    );
    const manager = rig(claims, { 'usb:H1': new FakeDevice('H1'), 'usb:F1': new FakeDevice('F1') });
    const registry = new DeviceRegistry();
    const skipped: string[] = [];
    const started: string[] = [];
    let bothSeen: () => void = () => undefined;
    const seen = new Promise<void>((r) => {
      bothSeen = r;
    });
    const check = () => skipped.length + started.length === 2 && bothSeen();
    const stop = await startAutoFlash({
      registry,
      manager,
      pkg,
      unitClaims: claims,
      onSkip: (d, why) => {
        skipped.push(`${d.id}: ${why}`);
        check();
      },
      onStart: (d) => {
        started.push(d.id);
        check();
      },
    });
    const ready = (id: string, serial: string): DeviceInfo => ({
      id,
      connection: 'usb',
      address: id,
      mode: 'fastboot',
      state: 'ready',
      product: 'flashline-virtual',
      serial,
    });
    registry.upsert(ready('usb:H1', 'H1'));
    registry.upsert(ready('usb:F1', 'F1'));
    await seen;
    await manager.waitAll();
    stop();
    assert.deepEqual(skipped, ['usb:H1: serial H1 is being flashed with this package on station east']);
    assert.deepEqual(started, ['usb:F1']);
  });
});
