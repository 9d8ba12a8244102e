/**
 * The OTA agent end to end: a virtual device polls a real repository on loopback, streams the newer package
 * into its inactive slot, verifies it with the package code, switches, reboots, commits, and reports every
 * phase over a real MQTT broker (mosquitto), where the reports are decoded with the contract's decoder.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { OTA_PHASES } from '../../../main/protocol/ota/report.js';
import { type Mosquitto, startMosquitto } from '../../support/mosquitto.js';
import { collectReports, makeOtaWorld, type OtaWorld, partitionSha, sha256 } from './fixture.js';

describe('OTA agent: update', () => {
  let world: OtaWorld;
  let broker: Mosquitto;
  before(async () => {
    world = await makeOtaWorld({ encrypted: true });
    broker = await startMosquitto();
  });
  after(async () => {
    await world?.close();
    await broker?.stop();
  });

  it('updates the inactive slot, boots it, commits it, and reports every phase ending 0', async () => {
    const collector = await collectReports(broker.url);
    try {
      const d = await world.startDevice({ ota: world.agentOptions({ report: broker.url, site: 'lab-1' }) });
      assert.equal(d.device.runningVersion, '1.0.0');
      const before = await partitionSha(d, 'boot_a');
      const result = await d.ota!.pollNow();
      assert.equal(result.outcome, 'attempt');
      assert.equal(result.outcome === 'attempt' && result.status, 0);
      assert.equal(d.device.runningVersion, world.version);
      assert.equal(d.device.bootedSlot, 'b');
      const bc = d.device.bootControl;
      assert.equal(bc.active, 'b');
      assert.equal(bc.slots.b.successful, true);
      assert.equal(d.device.rollbackIndex, 1);
      assert.equal(await partitionSha(d, 'boot_b'), sha256(world.images.boot));
      assert.equal(await partitionSha(d, 'system_b'), sha256(world.images.system));
      assert.equal(await partitionSha(d, 'boot_a'), before, 'the old slot is untouched');
      const done = await collector.waitFor((r) => r.phase === 'done');
      assert.equal(done.status, 0);
      assert.equal(done.serial, d.serial);
      assert.equal(done.package.version, world.version);
      assert.equal(done.package.id, world.targetName);
      assert.equal(done.fromVersion, '1.0.0');
      const mine = collector.reports.filter((r) => r.attemptId === done.attemptId);
      const phases = mine.map((r) => r.phase);
      for (const p of OTA_PHASES.filter((x) => x !== 'failed'))
        assert.ok(phases.includes(p), `phase ${p} reported (got ${phases.join(',')})`);
      const seqs = mine.map((r) => r.seq);
      assert.deepEqual(
        seqs,
        [...seqs].sort((a, b) => a - b),
        'seq increases in order',
      );
      assert.equal(new Set(seqs).size, seqs.length, `seqs ${seqs.join(',')} phases ${phases.join(',')}`);
      assert.deepEqual(collector.rejected, []);
      // The outbox empties once the broker acknowledged (the acknowledgement may trail the delivery).
      await d.ota!.reporter.flush();
      assert.equal(d.ota!.reporter.pending.length, 0, 'the outbox is empty once the broker acknowledged');
      const again = await d.ota!.pollNow();
      assert.equal(again.outcome, 'none', 'nothing newer afterwards');
    } finally {
      await collector.close();
    }
  });

  it('a later, newer package goes to the other slot (A/B alternate); the secure element follows', async () => {
    const d = await world.startDevice();
    const first = await d.ota!.pollNow();
    assert.equal(first.outcome === 'attempt' && first.status, 0);
    assert.equal(d.device.bootedSlot, 'b');
    const boot3 = await world.publishVersion('3.0.0', 2);
    const second = await d.ota!.pollNow();
    assert.equal(second.outcome === 'attempt' && second.status, 0);
    assert.equal(d.device.bootedSlot, 'a');
    assert.equal(d.device.runningVersion, '3.0.0');
    assert.equal(d.device.rollbackIndex, 2);
    assert.equal(await partitionSha(d, 'boot_a'), sha256(boot3));
    assert.equal(
      await partitionSha(d, 'boot_b'),
      sha256(world.images.boot),
      'the previous update stays in b',
    );
  });
});
