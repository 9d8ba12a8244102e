/**
 * Power loss at any point of an OTA update, with the virtual device's own power-loss injection: cuts in the
 * package download/install (byte offsets across the head, block lists, both images and the archive end),
 * in the switch (slot made bootable, set_active), the reboot and the commit. After every cut the device must
 * come back booted (never stuck without a bootable slot), and the next polls must resume — the download from
 * its last checkpoint, not from byte 0 — and end 0 on the new version. Also: reports queued while the broker
 * is away survive a power cut on the device's storage and arrive after it comes back.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { OtaReport } from '../../../main/protocol/ota/report.js';
import type { PowerLossFault } from '../../../virtual-device/index.js';
import { makeOtaWorld, type OtaWorld, partitionSha, sha256, startBroker } from './fixture.js';

describe('OTA agent: power loss', () => {
  let world: OtaWorld;
  let length = 0;
  before(async () => {
    // A system image larger than the agent's checkpoint interval (4 MiB), so cuts land inside one too.
    world = await makeOtaWorld({ encrypted: true, systemBytes: 6 * 1024 * 1024 + 777 });
    length = (await import('node:fs')).statSync(await world.targetFile()).size;
  });
  after(async () => {
    await world?.close();
  });

  it('a sweep over the download, install, switch, reboot and commit finds 0 unbootable devices; every one ends 0', async () => {
    const fractions = [0.0001, 0.02, 0.04, 0.047, 0.1, 0.25, 0.5, 0.66, 0.7, 0.8, 0.95, 0.999];
    const cuts: PowerLossFault[] = [
      ...fractions.map((f) => ({ stage: 'ota-download' as const, at: Math.floor(length * f) })),
      { stage: 'ota-download', at: length - 10 },
      { stage: 'ota-switch', at: 0 },
      { stage: 'ota-switch', at: 1 },
      { stage: 'set_active', at: 0 },
      { stage: 'set_active', at: 1 },
      { stage: 'reboot', at: 0 },
      { stage: 'reboot', at: 1 },
      { stage: 'mark-successful', at: 0 },
      { stage: 'mark-successful', at: 1 },
      { stage: 'mark-successful', at: 2 },
    ];
    let unbootable = 0;
    const summary: string[] = [];
    for (const cut of cuts) {
      const d = await world.startDevice({ faults: { powerLoss: cut } });
      const seen: OtaReport[] = [];
      d.ota!.on('report', (r) => seen.push(r));
      let status: number | undefined;
      let polls = 0;
      while (status === undefined && polls < 6) {
        polls++;
        const r = await d.ota!.pollNow();
        await d.whenUp();
        if (d.device.mode !== 'os') unbootable++;
        if (r.outcome === 'attempt') status = r.status;
      }
      const where = `${cut.stage}:${cut.at}`;
      assert.equal(d.device.faults.powerLoss, undefined, `the cut ${where} happened`);
      assert.equal(status, 0, `${where}: the update ended 0 (after ${polls} polls)`);
      assert.equal(d.device.runningVersion, world.version, where);
      assert.equal(d.device.bootControl.slots.b.successful, true, where);
      assert.equal(await partitionSha(d, 'system_b'), sha256(world.images.system), where);
      const resumed = seen.find((r) => r.phase === 'downloading' && r.message?.startsWith('resuming'));
      if (cut.stage === 'ota-download' && cut.at > length * 0.06) {
        const from = Number(/resuming at byte (\d+)/.exec(resumed?.message ?? '')?.[1]);
        assert.ok(from > 0 && from <= cut.at, `${where}: the download resumed at byte ${from}, not 0`);
      }
      summary.push(`${where}→${polls} polls${resumed ? ` (${resumed.message})` : ''}`);
      await d.stop();
    }
    assert.equal(unbootable, 0, 'no device was left without a bootable slot');
    process.stdout.write(
      `# power-loss sweep: ${cuts.length} cuts, 0 unbootable\n# ${summary.join('\n# ')}\n`,
    );
  });

  it('reports queued while the broker is away survive a power cut and arrive afterwards', async () => {
    const probe = await startBroker(0);
    const port = probe.port;
    await probe.stop();
    const d = await world.startDevice({
      ota: world.agentOptions({ report: `mqtt://127.0.0.1:${port}`, site: 'offline-site' }),
    });
    const result = await d.ota!.pollNow();
    assert.equal(result.outcome === 'attempt' && result.status, 0);
    const queued = d.ota!.reporter.pending.length;
    assert.ok(queued >= 7, `reports kept on the device (${queued})`);
    await d.powerCut();
    await d.ota!.reporter.loaded;
    assert.equal(d.ota!.reporter.pending.length, queued, 'the outbox came back from storage');
    // The broker records what reaches it (server side: no subscriber can miss the reconnect).
    const back = await startBroker(port);
    try {
      await back.until((r) => r.phase === 'done' && r.serial === d.serial);
      const done = back.reports.find((r) => r.phase === 'done')!;
      assert.equal(done.status, 0);
      const mine = back.reports.filter((r) => r.attemptId === done.attemptId);
      assert.equal(new Set(mine.map((r) => r.seq)).size, queued, 'every queued report arrived');
      assert.deepEqual(back.rejected, []);
    } finally {
      await d.stop();
      await back.stop();
    }
  });

  it('on its own timer: polls when up, and after a power cut mid-download resumes at once (not an interval later)', async () => {
    const d = await world.startDevice({
      faults: { powerLoss: { stage: 'ota-download', at: Math.floor(length * 0.7) } },
      ota: world.agentOptions({ manual: false, intervalSeconds: 3600 }),
    });
    const seen: OtaReport[] = [];
    const done = new Promise<OtaReport>((resolve) =>
      d.ota!.on('report', (r) => {
        seen.push(r);
        if (r.phase === 'done' || r.phase === 'failed') resolve(r);
      }),
    );
    const end = await done;
    assert.equal(end.status, 0);
    assert.equal(d.device.faults.powerLoss, undefined, 'the cut happened');
    assert.equal(d.device.runningVersion, world.version);
    assert.ok(seen.some((r) => r.message?.startsWith('resuming at byte')));
  });
});
