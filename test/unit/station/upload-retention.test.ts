/**
 * Upload retention: a newer upload replaces the older one (unless auto-flash or a job still reads it),
 * stopping the station removes this run's uploads, and a starting station removes uploads older than a day.
 */
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeDemoPackage } from '../../../main/cli/commands/demo.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { type DeviceConnector, DeviceLinkError } from '../../../main/flash/ports.js';
import { FlashService } from '../../../main/flash/service.js';
import { createService } from '../../../main/station/run-station.js';
import { startStation } from '../../../main/station/server.js';
import { STALE_UPLOAD_MS, UploadRetention } from '../../../main/station/upload-retention.js';

const root = mkdtempSync(join(tmpdir(), 'flashline-retention-'));
after(() => rmSync(root, { recursive: true, force: true }));

async function upload(origin: string, token: string, name: string, body: Uint8Array): Promise<string> {
  const res = await fetch(`${origin}/upload`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'X-Flashline-Filename': name },
    body,
  });
  assert.equal(res.status, 200);
  return ((await res.json()) as { path: string }).path;
}

const folders = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);

/** A station on loopback serving `flash`, with its uploads in `uploadDir`, and a demo package's bytes. */
async function stationFor(flash: FlashService, uploadDir: string, devices = new DeviceRegistry()) {
  const station = await startStation({
    host: '127.0.0.1',
    port: 0,
    staticDir: root,
    service: createService({ devices, flash }),
    uploadDir,
  });
  const demo = readFileSync(
    await makeDemoPackage(join(root, `demo-${folders(root).length}.flp`), {
      bootSize: 4096,
      systemSize: 4096,
    }),
  );
  return { station, demo, folderOf: (p: string) => dirname(p).slice(uploadDir.length + 1) };
}

describe('upload retention', () => {
  it('a newer upload replaces older ones, but never the verified one for a refused one', async () => {
    const home = join(root, 'home');
    const uploadDir = join(root, 'uploads-1');
    const devices = new DeviceRegistry();
    const flash = new FlashService({ home });
    const { station, demo, folderOf } = await stationFor(flash, uploadDir, devices);
    try {
      const send = (name: string, body: Uint8Array) => upload(station.origin, station.token, name, body);
      // a: verified (opened) by the service.
      const a = await send('a.flp', demo);
      await flash.openPackage(a);
      // b: refused when opened. It does not displace a, which stays one click away.
      const b = await send('b.flp', new Uint8Array([2]));
      await assert.rejects(flash.openPackage(b));
      assert.ok(existsSync(a) && existsSync(b));
      // c arrives: b (never verified) goes; a stays until c is verified.
      const c = await send('c.flp', demo);
      assert.equal(existsSync(dirname(b)), false);
      assert.ok(existsSync(a));
      await flash.openPackage(c);
      // Auto-flash now reads c; d and e arrive: a is replaced by the newer verified c, c stays in use.
      await flash.setAutoFlash(devices, c);
      const d = await send('d.flp', demo);
      await flash.openPackage(d);
      const e = await send('e.flp', new Uint8Array([5]));
      assert.equal(existsSync(dirname(a)), false);
      assert.ok(existsSync(c), 'the auto-flash package stays while in use');
      assert.deepEqual(folders(uploadDir), [c, d, e].map(folderOf).sort());
      // A removed upload is no longer answered from the service's cache.
      assert.equal(
        flash.packages().some((p) => p.path === a),
        false,
      );
      await assert.rejects(flash.openPackage(a));
      // Auto-flash lets go of c: the next upload removes it (d is the newest verified one).
      await flash.setAutoFlash(devices, null);
      const f = await send('f.flp', new Uint8Array([6]));
      assert.deepEqual(folders(uploadDir), [d, f].map(folderOf).sort());
    } finally {
      await station.close();
    }
    assert.deepEqual(folders(uploadDir), [], 'stopping the station removes its uploads');
  });

  it('keeps exactly the upload a running job reads, as the flash service says (not by file name)', async () => {
    const uploadDir = join(root, 'uploads-job');
    // A device that never answers: the job stays in preflight until it is cancelled.
    const silent: DeviceConnector = {
      connect: (_id, { signal }) =>
        new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new DeviceLinkError('timeout', 'no answer'))),
        ),
    };
    const flash = new FlashService({
      home: join(root, 'home-job'),
      connector: silent,
      engine: {
        timeouts: { commandMs: 60_000, minDownloadBytesPerSecond: 1e6, rebootMs: 60_000, connectMs: 60_000 },
        retry: { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 },
      },
    });
    const { station, demo, folderOf } = await stationFor(flash, uploadDir);
    try {
      const send = async (name: string) => {
        const path = await upload(station.origin, station.token, name, demo);
        await flash.openPackage(path);
        return path;
      };
      // Two uploads with the same file name; a job reads the newer one.
      const older = await send('same.flp');
      const newer = await send('same.flp');
      const [jobId] = await flash.flash(newer, ['silent:1']);
      assert.deepEqual([...flash.packagesInUse()], [newer]);
      const other = await send('other.flp');
      assert.equal(existsSync(older), false, 'the same name as the job package does not keep an upload');
      assert.ok(existsSync(newer), 'the package the job reads stays');
      assert.deepEqual(folders(uploadDir), [newer, other].map(folderOf).sort());
      // The job ends: the next upload replaces its package (other, the newest verified one, stays).
      assert.ok(flash.cancelJob(jobId!));
      assert.equal((await flash.manager.wait(jobId!)).status, 18);
      const last = await send('last.flp');
      assert.deepEqual(folders(uploadDir), [other, last].map(folderOf).sort());
    } finally {
      await station.close();
    }
  });

  it('removes uploads older than a day when a station starts, and nothing else', async () => {
    const uploadDir = join(root, 'uploads-2');
    const old = join(uploadDir, '0123456789abcdef');
    const recent = join(uploadDir, 'fedcba9876543210');
    for (const dir of [old, recent]) {
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'p.flp'), 'x');
    }
    writeFileSync(join(uploadDir, 'notes.txt'), 'not an upload');
    const twoDaysAgo = new Date(Date.now() - 2 * STALE_UPLOAD_MS);
    utimesSync(old, twoDaysAgo, twoDaysAgo);
    const station = await startStation({
      host: '127.0.0.1',
      port: 0,
      staticDir: root,
      service: createService(),
      uploadDir,
    });
    try {
      assert.deepEqual(folders(uploadDir), ['fedcba9876543210', 'notes.txt']);
    } finally {
      await station.close();
    }
    // Uploads of an earlier run are not this station's to remove on stop; they age out instead.
    assert.deepEqual(folders(uploadDir), ['fedcba9876543210', 'notes.txt']);
  });

  it('never removes anything outside its own upload folders', async () => {
    const dir = join(root, 'uploads-3');
    const retention = new UploadRetention(dir);
    const outside = join(root, 'outside', 'keep.flp');
    mkdirSync(dirname(outside), { recursive: true });
    writeFileSync(outside, 'x');
    await retention.added(outside);
    await retention.added(join(dir, '0123456789abcdef', 'n.flp'));
    await retention.removeAll();
    assert.ok(existsSync(outside));
  });
});
