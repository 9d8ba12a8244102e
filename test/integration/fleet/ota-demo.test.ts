/**
 * `flashline demo --ota` as composed by startOtaDemo, against a real PostgreSQL (started here, given as
 * `--fleet-db`) and the station's embedded broker: three virtual devices with OTA agents update themselves
 * from the local repository (the third one's new slot fails to boot, so it falls back and reports a 4x code),
 * the station's ingester stores their reports, the rollout query counts them per package, and the station's
 * sync of the same package through the dropping mirror resumes and places it in the cache.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startOtaDemo } from '../../../main/cli/commands/demo-ota.js';
import { DeviceRegistry } from '../../../main/devices/index.js';
import type { OtaLiveSnapshot, OtaLiveView } from '../../../main/fleet/ota-ingest.js';
import { type PgCluster, startPostgres } from '../../support/postgres.js';
import { tempDir } from '../flash/helpers.js';

const KiB = 1024;
const tmp = tempDir('flashline-ota-demo-');
let pg: PgCluster;

before(async () => {
  pg = await startPostgres();
});
after(async () => {
  await pg?.destroy();
  tmp.cleanup();
});

function until(view: OtaLiveView, test: (s: OtaLiveSnapshot) => boolean): Promise<OtaLiveSnapshot> {
  return new Promise((resolve) => {
    const check = () => {
      const s = view.snapshot();
      if (!test(s)) return;
      off();
      resolve(s);
    };
    const off = view.onChange(check);
    check();
  });
}

describe('OTA demo', () => {
  it('devices update over the air, codes land in the fleet store, the station sync resumes', {
    timeout: 60_000,
  }, async (t) => {
    const lines: string[] = [];
    const home = `${tmp.dir}/home`;
    await fs.mkdir(home, { recursive: true });
    const demo = await startOtaDemo({
      devices: 3,
      dir: `${tmp.dir}/demo`,
      home,
      fleetDb: pg.url,
      intervalSeconds: 3600,
      version: 'test',
      sources: { devices: new DeviceRegistry(), jobs: { subscribe: () => () => undefined } },
      log: (line) => lines.push(line),
      device: {
        partitions: [
          { name: 'boot', size: 512 * KiB, slotted: true },
          { name: 'system', size: 1024 * KiB, slotted: true },
          { name: 'misc', size: 64 * KiB, slotted: false },
        ],
        bootDelayMs: 20,
      },
      pkg: { bootSize: 256 * KiB, systemSize: 768 * KiB },
    });
    t.after(() => demo.stop());
    const ota = demo.fleet.context.ota;
    assert.ok(ota, 'the station ingests OTA reports');
    // The agents poll at once on start. Wait until each agent has queued its attempt's last report and the
    // station holds that report (or a newer one) for the device: what the fleet shows is then final.
    const serials = ['OTA001', 'OTA002', 'OTA003'];
    const s = await until(ota, (x) =>
      serials.every((serial) => {
        const sent = demo.lastReports().get(serial);
        const held = x.devices.find((d) => d.serial === serial);
        return (
          (sent?.phase === 'done' || sent?.phase === 'failed') &&
          held?.attemptId === sent.attemptId &&
          held.seq >= sent.seq
        );
      }),
    );
    // Two end 0, the third falls back and reports a postcheck code.
    for (const serial of serials) {
      const sent = demo.lastReports().get(serial);
      const held = s.devices.find((d) => d.serial === serial);
      assert.equal(
        held?.phase,
        sent?.phase,
        `${serial}: its agent's last report says ${sent?.phase} (seq ${sent?.seq}), the station holds ${held?.phase} (seq ${held?.seq}); a report's seq must grow within an attempt`,
      );
    }
    const bySerial = new Map(s.devices.map((d) => [d.serial, d]));
    assert.equal(bySerial.get('OTA001')?.status, 0);
    assert.equal(bySerial.get('OTA002')?.status, 0);
    const fallback = bySerial.get('OTA003')?.status ?? -1;
    assert.ok(fallback >= 40 && fallback <= 49, `OTA003 reported ${fallback}, a postcheck code`);
    assert.equal(s.dropped, 0);
    await until(ota, (x) => x.waiting === 0);
    const rollout = await demo.fleet.context.rollout?.rollout(10);
    const pkg = rollout?.find((p) => p.packageId === 'flashline-demo');
    assert.equal(pkg?.packageVersion, '2.0.0');
    assert.equal(pkg?.devices.installed, 2);
    assert.deepEqual(
      pkg?.devices.failed.map((f) => [f.status, f.count]),
      [[fallback, 1]],
    );
    // The station's sync through the mirror: one dropped connection, resumed, verified, cached.
    const synced = await demo.sync;
    assert.equal(demo.mirror.drops(), 1);
    assert.equal(synced.packages.length, 1);
    assert.equal(synced.packages[0]?.downloaded, true);
    assert.ok(
      lines.some((l) => /asked again from bytes=\d+- \(resuming\)/.test(l)),
      lines.join('\n'),
    );
  });
});
