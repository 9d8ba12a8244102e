import assert from 'node:assert/strict';
import { copyFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after as afterAll, describe, it } from 'node:test';
import { startDemoRig } from '../../../main/cli/commands/demo.js';
import { readJournal } from '../../../main/flash/journal.js';
import { FlashService } from '../../../main/flash/service.js';
import { StationRollbackStore } from '../../../main/package/index.js';
import { POWER_LOSS_STAGES } from '../../../virtual-device/index.js';
import { after, FAST_ENGINE, flashRig, SMALL_PACKAGE, tempDir } from './helpers.js';

const tmp = tempDir('flashline-flash-it-');
afterAll(tmp.cleanup);
let n = 0;
const home = () => join(tmp.dir, `h${n++}`);

describe('flash engine against virtual devices over TCP', () => {
  it('happy path: inactive slot written, verified on the device, switched, committed', async () => {
    const { reports, events, devices } = await flashRig(home(), { devices: 1 });
    const r = reports[0]!;
    assert.equal(r.status, 0, r.message);
    assert.equal(r.deviceVerification, 'ok');
    assert.equal(r.device.slotBefore, 'a');
    assert.equal(r.device.slotAfter, 'b');
    assert.equal(r.device.versionAfter, '2.0.0');
    assert.equal(devices[0]!.active, 'b');
    assert.equal(devices[0]!.running, '2.0.0');
    const progress = events.filter((e) => e.type === 'progress' && e.stage === 'download');
    assert.ok(progress.length >= 2);
    let last = -1;
    for (const e of progress) {
      assert.ok(e.type === 'progress' && e.bytesDone >= last);
      if (e.type === 'progress') last = e.bytesDone;
    }
  });

  const refusals: [string, number, Parameters<typeof flashRig>[1]][] = [
    ['wrong product', 27, { devices: 1, device: { product: 'some-phone' } }],
    ['battery low', 16, { devices: 1, device: { batteryLevel: 5 } }],
    ['bootloader download buffer too small', 14, { devices: 1, device: { maxDownloadSize: 4096 } }],
    [
      'partition too small',
      13,
      {
        devices: 1,
        device: {
          partitions: [
            { name: 'boot', size: 512 * 1024, slotted: true },
            { name: 'system', size: 8 << 20, slotted: true },
          ],
        },
      },
    ],
    ['capacity too small (free space)', 13, { devices: 1, device: { capacity: 3 * 1024 * 1024 } }],
  ];
  for (const [name, code, opts] of refusals) {
    it(`preflight refuses: ${name} → ${code}, device untouched`, async () => {
      const { reports, devices } = await flashRig(home(), opts);
      assert.equal(reports[0]!.status, code, reports[0]!.message);
      assert.equal(reports[0]!.bytesWritten, 0);
      assert.equal(devices[0]!.active, 'a');
    });
  }

  it('preflight refuses a package below the station rollback record → 26', async () => {
    const h = home();
    await new StationRollbackStore(join(h, 'rollback.json')).record('flashline-virtual', 9);
    const { reports, devices } = await flashRig(h, { devices: 1 });
    assert.equal(reports[0]!.status, 26, reports[0]!.message);
    assert.equal(reports[0]!.bytesWritten, 0, 'refused before anything was sent');
    assert.equal(devices[0]!.active, 'a');
  });

  it('cable pull after a piece was written → the resumed job sends only the pieces not yet written → 0', async () => {
    const h = home();
    const rig = await startDemoRig({ devices: 1, dir: join(h, 'rig'), pkg: SMALL_PACKAGE });
    try {
      const vd = rig.devices[0]!;
      // Watch the device: every download it completed (by size), and pull the cable 100 000 bytes into the
      // download that follows the first written piece of system (boot is already whole by then) — so
      // restarting the job, or the image, would have to send written pieces again.
      const completed: number[] = [];
      const device = vd.device;
      const completeDownload = device.completeDownload.bind(device);
      device.completeDownload = (image) => {
        completed.push(image.size);
        completeDownload(image);
      };
      const flashPartition = device.flash.bind(device);
      let armed = false;
      device.flash = async (arg) => {
        await flashPartition(arg);
        if (!armed && arg.startsWith('system')) {
          armed = true;
          device.faults = { ...device.faults, dropAtByte: 100_000 };
        }
      };
      const flash = new FlashService({ home: h, engine: FAST_ENGINE });
      // The journal is removed once the job's report is stored: keep a copy when postcheck starts (every
      // piece is written and journaled by then).
      const kept = join(h, 'journal-at-postcheck.jsonl');
      flash.manager.subscribe((e) => {
        if (e.type === 'stage' && e.stage === 'postcheck')
          copyFileSync(join(h, 'journal', `${e.jobId}.jsonl`), kept);
      });
      const [jobId] = await flash.flash(rig.packagePath, [vd.address]);
      const r = await flash.manager.wait(jobId!);
      assert.equal(r.status, 0, r.message);
      assert.ok(r.resumes >= 1, 'the cable pull was recovered by a resume');
      assert.ok(armed && device.faults.dropAtByte === undefined, 'the pull happened');

      const journal = await readJournal(kept);
      assert.ok(journal);
      const planned = [...journal.piecePlans.values()].flat();
      assert.ok((journal.piecePlans.get('system_b')?.length ?? 0) >= 2, 'system goes in several pieces');
      // Every planned piece reached the device exactly once: the written one was not sent again.
      assert.deepEqual(
        [...completed].sort((a, b) => a - b),
        [...planned].sort((a, b) => a - b),
        'each piece completed one download',
      );
      const pieceRecords = readFileSync(journal.path, 'utf8')
        .split('\n')
        .filter((l) => l.includes('"type":"piece"'))
        .map((l) => {
          const rec = JSON.parse(l) as { partition: string; index: number };
          return `${rec.partition}#${rec.index}`;
        });
      assert.equal(new Set(pieceRecords).size, pieceRecords.length, 'no piece journaled twice');
      assert.equal(pieceRecords.length, planned.length);
      // On the wire: every piece once, plus the part of the interrupted one sent before the pull.
      const wire = planned.reduce((a, b) => a + b, 0);
      assert.ok(r.bytesWritten >= wire + 100_000, `sent ${r.bytesWritten} bytes`);
      assert.ok(r.bytesWritten <= wire + Math.max(...planned), `sent ${r.bytesWritten} bytes for ${wire}`);
      assert.equal(after(vd).active, 'b');
    } finally {
      await rig.stop();
    }
  });

  for (const stage of POWER_LOSS_STAGES.filter((s) => s !== 'erase')) {
    it(`power loss during ${stage}: the job ends cleanly and the device stays bootable`, async () => {
      const at = stage === 'download' || stage === 'flash' ? 200_000 : 1;
      const { reports, devices } = await flashRig(home(), {
        devices: 1,
        faults: () => ({ powerLoss: { stage, at } }),
      });
      const r = reports[0]!;
      assert.ok(devices[0]!.bootable, 'a bootable slot remains');
      assert.equal(r.status, 0, `${r.status} ${r.message}`);
      assert.equal(devices[0]!.running, '2.0.0');
    });
  }

  it('bad boot of the new slot → device falls back → 42, old slot active', async () => {
    const { reports, devices } = await flashRig(home(), { devices: 1, faults: () => ({ badBoot: ['b'] }) });
    assert.equal(reports[0]!.status, 42, reports[0]!.message);
    assert.equal(devices[0]!.active, 'a');
    assert.equal(devices[0]!.running, '1.0.0');
  });

  it('an image that boots another version than promised → 43, rolled back', async () => {
    const { reports, devices } = await flashRig(home(), { devices: 1, pkg: { bootsVersion: '1.9.0' } });
    assert.equal(reports[0]!.status, 43, reports[0]!.message);
    assert.equal(devices[0]!.active, 'a');
  });

  it('garbage replies → a typed failure, no hang', async () => {
    const { reports, devices } = await flashRig(home(), {
      devices: 1,
      faults: () => ({ garbageReplies: true }),
    });
    assert.ok([15, 17].includes(reports[0]!.status), `${reports[0]!.status} ${reports[0]!.message}`);
    assert.equal(devices[0]!.active, 'a');
  });

  it('8 devices in parallel, one faulty: the other 7 succeed', async () => {
    const { reports, devices } = await flashRig(home(), {
      devices: 8,
      faults: (i) => (i === 3 ? { badBoot: ['b'] } : undefined),
    });
    assert.deepEqual(
      reports.map((r) => r.status),
      [0, 0, 0, 42, 0, 0, 0, 0],
    );
    assert.ok(devices.every((d) => d.bootable));
  });
});
