/**
 * A sparse image made by libsparse's `img2simg`, bigger than the virtual device's max-download-size, is
 * re-split by the shared codec and flashed end to end over TCP (it used to be refused with 14): the
 * device's partition ends up byte-equal to the raw image (and to `simg2img`'s expansion), verified on the
 * device, and a power loss mid-image resumes at the interrupted piece.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createWriteStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { DEMO_PARTITIONS } from '../../../main/cli/commands/demo.js';
import { FlashService } from '../../../main/flash/service.js';
import { createDemoPackage } from '../../../main/package/index.js';
import { type Faults, makeVirtualImage, startVirtualDevice } from '../../../virtual-device/index.js';
import { FAST_ENGINE, tempDir } from './helpers.js';

const MiB = 1024 * 1024;
const MAX_DOWNLOAD = 256 * 1024;
const tmp = tempDir('flashline-sparse-it-');
after(tmp.cleanup);

const rawPath = join(tmp.dir, 'system.raw');
const sparsePath = join(tmp.dir, 'system.simg');
const packagePath = join(tmp.dir, 'sparse.flp');
let raw: Buffer;

before(async () => {
  const version = '2.0.0';
  // Random data with a fill run and a zero run, so img2simg writes RAW and FILL chunks.
  await pipeline(
    makeVirtualImage({ version, rollbackIndex: 2, size: 2 * MiB, seed: 'sparse-system' }),
    createWriteStream(rawPath),
  );
  raw = await fs.readFile(rawPath);
  raw.fill(0x5a, 512 * 1024, 768 * 1024);
  raw.fill(0, 1024 * 1024, 1280 * 1024);
  await fs.writeFile(rawPath, raw);
  execFileSync('img2simg', [rawPath, sparsePath]);
  await createDemoPackage({
    outPath: packagePath,
    version,
    rollbackIndex: 2,
    expectedVersion: version,
    images: [
      { partition: 'boot', source: makeVirtualImage({ version, rollbackIndex: 2, size: MiB }), size: MiB },
      { partition: 'system', source: sparsePath, sparse: true },
    ],
  });
});

async function flashOnce(home: string, faults?: Faults) {
  const device = await startVirtualDevice({
    serial: 'SPARSE01',
    partitions: DEMO_PARTITIONS,
    maxDownloadSize: MAX_DOWNLOAD,
    bootDelayMs: 100,
    ...(faults ? { faults } : {}),
  });
  try {
    const service = new FlashService({ home, concurrency: 1, engine: FAST_ENGINE });
    const [id] = await service.flash(packagePath, [device.address]);
    assert.ok(id);
    const report = await service.manager.wait(id);
    const onDevice = await fs.readFile(device.device.store.partitionPath('system_b'));
    return { report, onDevice };
  } finally {
    await device.stop();
  }
}

describe('sparse image bigger than max-download-size, against a virtual device over TCP', () => {
  it('is re-split and flashed, not refused; the partition equals the raw image', async () => {
    const sparseSize = (await fs.stat(sparsePath)).size;
    assert.ok(sparseSize > MAX_DOWNLOAD, `img2simg made ${sparseSize} bytes`);
    const expanded = join(tmp.dir, 'system.expanded');
    execFileSync('simg2img', [sparsePath, expanded]);
    assert.ok(raw.equals(await fs.readFile(expanded)), 'libsparse round trip');

    const { report, onDevice } = await flashOnce(join(tmp.dir, 'h1'));
    assert.equal(report.status, 0, report.message);
    assert.equal(report.deviceVerification, 'ok');
    assert.equal(report.device.versionAfter, '2.0.0');
    assert.ok(onDevice.equals(raw), 'system_b holds the expanded image');
  });

  it('power loss while a later piece is written resumes at that piece, not the image start → 0', async () => {
    const sparseSize = (await fs.stat(sparsePath)).size;
    // `flash` power-loss offsets are partition offsets: 1.5 MiB is inside a later piece of system.
    const { report, onDevice } = await flashOnce(join(tmp.dir, 'h2'), {
      powerLoss: { stage: 'flash', at: 1536 * 1024 },
    });
    assert.equal(report.status, 0, report.message);
    assert.ok(report.resumes >= 1, 'the job reconnected');
    const wire = MiB + 4096 + sparseSize + 4096;
    assert.ok(report.bytesWritten < wire + MAX_DOWNLOAD, `sent ${report.bytesWritten} bytes for ${wire}`);
    assert.ok(onDevice.equals(raw));
  });
});
