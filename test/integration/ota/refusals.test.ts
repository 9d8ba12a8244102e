/**
 * What the OTA agent refuses, and what a refusal leaves: a tampered target and expired metadata give a 2x
 * code with the running slot untouched (a tampered head: nothing written to any slot; tampered image bytes:
 * only verified blocks reached the inactive slot, which stays unbootable and inactive); too little storage
 * gives 13 before any image byte is requested; a new slot that does not boot falls back, reported as 42.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { OtaReport } from '../../../main/protocol/ota/report.js';
import { publish } from '../../../main/repo/repository.js';
import type { VirtualDeviceHandle } from '../../../virtual-device/index.js';
import { type Mosquitto, startMosquitto } from '../../support/mosquitto.js';
import { collectReports, makeOtaWorld, type OtaWorld, partitionSha, sha256 } from './fixture.js';

/** Everything a refusal must leave as it was on the running side, and the inactive slot's files. */
async function snapshot(d: VirtualDeviceHandle) {
  return {
    bootedSlot: d.device.bootedSlot,
    version: d.device.runningVersion,
    active: d.device.bootControl.active,
    slotA: d.device.bootControl.slots.a,
    rollbackIndex: d.device.rollbackIndex,
    bootA: await partitionSha(d, 'boot_a'),
    systemA: await partitionSha(d, 'system_a'),
  };
}

function reportsOf(d: VirtualDeviceHandle): OtaReport[] {
  const seen: OtaReport[] = [];
  d.ota!.on('report', (r) => seen.push(r));
  return seen;
}

describe('OTA agent: refusals', () => {
  let world: OtaWorld;
  let broker: Mosquitto;
  before(async () => {
    world = await makeOtaWorld();
    broker = await startMosquitto();
  });
  after(async () => {
    await world?.close();
    await broker?.stop();
  });

  it('tampered image bytes: 28, only verified blocks reached the inactive slot, which stays unbootable', async () => {
    const collector = await collectReports(broker.url);
    const file = await world.targetFile();
    const original = await fs.readFile(file);
    try {
      const d = await world.startDevice({ ota: world.agentOptions({ report: broker.url }) });
      const was = await snapshot(d);
      // A byte in the middle of the system image's data (the package ends with it, then 1024 zero bytes).
      const altered = Buffer.from(original);
      const at = original.length - 1024 - Math.floor(world.images.system.length / 2);
      altered[at] = (altered[at] ?? 0) ^ 0xff;
      await fs.writeFile(file, altered);
      const result = await d.ota!.pollNow();
      assert.equal(result.outcome === 'attempt' && result.status, 28);
      assert.deepEqual(await snapshot(d), was, 'the running slot and its boot state are untouched');
      assert.equal(d.device.bootControl.slots.b.unbootable, true);
      const written = await fs.readFile(d.device.store.partitionPath('system_b'));
      assert.ok(written.length > 0 && written.length < world.images.system.length);
      assert.ok(written.equals(world.images.system.subarray(0, written.length)), 'only verified bytes');
      const failed = await collector.waitFor((r) => r.phase === 'failed');
      assert.equal(failed.status, 28);
      assert.equal(failed.statusName, 'image_mismatch');
      // The mirror is repaired: the next poll updates.
      await fs.writeFile(file, original);
      const again = await d.ota!.pollNow();
      assert.equal(again.outcome === 'attempt' && again.status, 0);
      assert.equal(d.device.runningVersion, world.version);
    } finally {
      await fs.writeFile(file, original);
      await collector.close();
    }
  });

  it('tampered head: a 2x code and nothing written to any slot', async () => {
    const file = await world.targetFile();
    const original = await fs.readFile(file);
    try {
      const d = await world.startDevice();
      const seen = reportsOf(d);
      const was = await snapshot(d);
      const bootB = await partitionSha(d, 'boot_b');
      const slotB = d.device.bootControl.slots.b;
      // Inside the manifest (the first entry's data starts at byte 512): a signed byte changes.
      const altered = Buffer.from(original);
      const at = original.indexOf('"version"', 512);
      altered[at + 1] = 'V'.charCodeAt(0);
      await fs.writeFile(file, altered);
      const result = await d.ota!.pollNow();
      assert.equal(result.outcome, 'attempt');
      const status = result.outcome === 'attempt' ? result.status : -1;
      assert.ok(status >= 20 && status <= 29, `a 2x code, got ${status}`);
      assert.deepEqual(await snapshot(d), was);
      assert.equal(await partitionSha(d, 'boot_b'), bootB, 'slot b untouched');
      assert.equal(await partitionSha(d, 'system_b'), sha256(Buffer.alloc(0)), 'slot b untouched');
      assert.deepEqual(d.device.bootControl.slots.b, slotB, 'slot b boot state untouched');
      assert.equal(seen.at(-1)?.phase, 'failed');
      assert.equal(seen.at(-1)?.status, status);
    } finally {
      await fs.writeFile(file, original);
    }
  });

  it('not enough storage: 13 before any image byte is requested, nothing written', async () => {
    const ranges: string[] = [];
    const listen = (req: IncomingMessage) => {
      if (req.url?.includes('/targets/')) ranges.push(req.headers.range ?? 'whole file');
    };
    world.server.server.on('request', listen);
    try {
      const d = await world.startDevice({ capacity: 1024 * 1024 });
      const was = await snapshot(d);
      const slotB = d.device.bootControl.slots.b;
      const result = await d.ota!.pollNow();
      assert.equal(result.outcome === 'attempt' && result.status, 13);
      assert.deepEqual(await snapshot(d), was);
      assert.deepEqual(d.device.bootControl.slots.b, slotB);
      assert.equal(await partitionSha(d, 'system_b'), sha256(Buffer.alloc(0)));
      // Only the bounded head (metadata) was read; no image byte was downloaded.
      assert.ok(ranges.length > 0);
      for (const r of ranges) {
        const m = /^bytes=0-(\d+)$/.exec(r);
        assert.ok(m && Number(m[1]) < 512 * 1024, `only the head was requested (got ${r})`);
      }
    } finally {
      world.server.server.off('request', listen);
    }
  });

  it('a new slot that does not boot: the device falls back, reported as 42; not tried again', async () => {
    const collector = await collectReports(broker.url);
    try {
      const d = await world.startDevice({
        faults: { badBoot: ['b'] },
        ota: world.agentOptions({ report: broker.url }),
      });
      const result = await d.ota!.pollNow();
      assert.equal(result.outcome === 'attempt' && result.status, 42);
      assert.equal(d.device.bootedSlot, 'a');
      assert.equal(d.device.runningVersion, '1.0.0');
      assert.equal(d.device.bootControl.active, 'a');
      const failed = await collector.waitFor((r) => r.phase === 'failed' && r.serial === d.serial);
      assert.equal(failed.status, 42);
      assert.equal(failed.statusName, 'booted_old_slot');
      // The final report must be the attempt's newest, or the fleet drops it as stale and shows "rebooting".
      const earlier = collector.reports.filter((r) => r.attemptId === failed.attemptId && r !== failed);
      assert.ok(earlier.length > 0);
      for (const r of earlier)
        assert.ok(r.seq < failed.seq, `${r.phase} seq ${r.seq} ≥ failed seq ${failed.seq}`);
      const again = await d.ota!.pollNow();
      assert.equal(again.outcome, 'none');
    } finally {
      await collector.close();
    }
  });

  it('expired repository metadata: 25 and nothing touched', async () => {
    const d = await world.startDevice();
    const was = await snapshot(d);
    const slotB = d.device.bootControl.slots.b;
    await publish(world.repoDir, { now: new Date(Date.now() - 3 * 24 * 3600 * 1000) });
    const result = await d.ota!.pollNow();
    assert.equal(result.outcome, 'refused');
    assert.equal(result.outcome === 'refused' && result.status, 25);
    assert.deepEqual(await snapshot(d), was);
    assert.deepEqual(d.device.bootControl.slots.b, slotB);
    assert.equal(await partitionSha(d, 'system_b'), sha256(Buffer.alloc(0)));
  });
});
