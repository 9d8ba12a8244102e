/**
 * A real full disk: the Flashline home is a 4 MiB tmpfs. While one job downloads, the disk is filled to
 * the last byte; that job's next journal write fails with ENOSPC and the job ends 19 (station_storage) with
 * a message naming the file — the process lives on. Once the space is freed, the 3 other jobs of the same
 * service, held at their connect meanwhile (so none of them writes while the disk is full), finish 0.
 * Mounting needs root (CI runs as root); otherwise the test is skipped and says why.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { closeSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startDemoRig } from '../../../main/cli/commands/demo.js';
import { FastbootConnector } from '../../../main/flash/adapters/fastboot.js';
import type { DeviceConnector } from '../../../main/flash/ports.js';
import { FlashService } from '../../../main/flash/service.js';
import { createService } from '../../../main/station/run-station.js';
import { startStation } from '../../../main/station/server.js';
import { FAST_ENGINE, SMALL_PACKAGE, tempDir } from './helpers.js';

const isRoot = process.getuid?.() === 0;
const skip = isRoot ? false : 'needs root to mount a 4 MiB tmpfs as the Flashline home (CI runs as root)';

/** Write zeros until the filesystem refuses: ENOSPC, for real. */
function fill(path: string): void {
  const fd = openSync(path, 'w');
  const chunk = Buffer.alloc(64 * 1024);
  try {
    for (;;) writeSync(fd, chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    closeSync(fd);
  }
}

describe('a full station disk (real tmpfs)', { skip }, () => {
  it('the job whose home fills up ends 19 while 3 other jobs on the same service finish 0', async () => {
    const tmp = tempDir('flashline-disk-full-');
    const home = join(tmp.dir, 'home');
    mkdirSync(home);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', home]);
    try {
      const rig = await startDemoRig({ devices: 4, dir: join(tmp.dir, 'rig'), pkg: SMALL_PACKAGE });
      try {
        const victim = rig.devices[0]?.address as string;
        let release = () => {};
        const gate = new Promise<void>((r) => {
          release = r;
        });
        const fastboot = new FastbootConnector();
        const connector: DeviceConnector = {
          async connect(deviceId, o) {
            if (deviceId !== victim) await gate;
            return fastboot.connect(deviceId, o);
          },
        };
        const service = new FlashService({
          home,
          concurrency: 4,
          connector,
          // The held jobs wait at connect; give that wait room so only the gate decides.
          engine: { ...FAST_ENGINE, timeouts: { ...FAST_ENGINE.timeouts, connectMs: 120_000 } },
        });
        const filler = join(home, 'filler');
        service.manager.subscribe((e) => {
          if (e.deviceId !== victim) return;
          if (e.type === 'stage' && e.stage === 'download') fill(filler);
          if (e.type === 'end') {
            rmSync(filler, { force: true });
            release();
          }
        });
        const ids = await service.flash(
          rig.packagePath,
          rig.devices.map((d) => d.address),
        );
        const reports = await Promise.all(ids.map((id) => service.manager.wait(id)));
        assert.deepEqual(
          reports.map((r) => r.status),
          [19, 0, 0, 0],
          reports.map((r) => r.message).join('\n'),
        );
        const failed = reports[0];
        assert.equal(failed?.statusName, 'station_storage');
        // Whichever of the job's files hit the full disk first (journal, rollback record), the message names it.
        assert.match(failed?.message ?? '', /^Flashline could not write .* \(\/.+\): the disk is full/);
        assert.equal(rig.devices[0]?.device.bootControl.active, 'a', 'the unit keeps its working slot');
        // The three that finished have their reports stored on the same (freed) disk.
        assert.equal(
          await service.reports.count(),
          3 + ((await service.reports.has(ids[0] as string)) ? 1 : 0),
        );
        assert.ok(await service.reports.has(ids[1] as string));
      } finally {
        await rig.stop();
      }
    } finally {
      execFileSync('umount', [home]);
      tmp.cleanup();
    }
  });

  it('an upload to a full disk is refused 507 in words, and the station keeps serving', async () => {
    const tmp = tempDir('flashline-upload-full-');
    const uploads = join(tmp.dir, 'uploads');
    mkdirSync(uploads);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', uploads]);
    const station = await startStation({
      host: '127.0.0.1',
      port: 0,
      staticDir: tmp.dir,
      service: createService(),
      uploadDir: uploads,
      uploadLimitBytes: 8 * 1024 * 1024,
    });
    try {
      const post = (body: Uint8Array | ReadableStream<Uint8Array>) =>
        fetch(`${station.origin}/upload`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${station.token}`, 'X-Flashline-Filename': 'pkg.flp' },
          body,
          duplex: 'half',
        } as RequestInit);
      const filler = join(uploads, 'filler');
      fill(filler);
      // Declared size: refused by the free-space check before a byte is written.
      const declared = await post(new Uint8Array(200 * 1024));
      assert.equal(declared.status, 507);
      const said = (await declared.json()) as { code: string; message: string };
      assert.equal(said.code, 'station_storage');
      assert.match(said.message, /could not write the upload .*the disk is full.*then upload again/);
      // Streamed without a length: the write itself hits ENOSPC.
      rmSync(filler);
      const chunk = new Uint8Array(64 * 1024);
      let sent = 0;
      const stream = new ReadableStream<Uint8Array>({
        pull(controller) {
          if (sent++ < 100) controller.enqueue(chunk);
          else controller.close();
        },
      });
      const streamed = await post(stream);
      assert.equal(streamed.status, 507);
      assert.match(((await streamed.json()) as { message: string }).message, /the disk is full \(ENOSPC\)/);
      const ok = await post(new Uint8Array(100 * 1024));
      assert.equal(ok.status, 200, 'the station still serves once space is free');
    } finally {
      await station.close();
      execFileSync('umount', [uploads]);
      tmp.cleanup();
    }
  });
});
