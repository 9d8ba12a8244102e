/**
 * The engine with sparse images larger than the device's download buffer: re-split by the shared codec and
 * flashed (not refused), verified against the expanded image, resumable piece by piece, and journaled with
 * the plan's identity so a resumed job never mixes pieces of two plans.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import type { EngineOptions } from '../../../main/flash/context.js';
import { runJob } from '../../../main/flash/job.js';
import { listInterrupted } from '../../../main/flash/journal.js';
import { encodeSparse, scanRawLayout } from '../../../main/protocol/fastboot/sparse/index.js';
import {
  bootImage,
  FakeConnector,
  FakeDevice,
  type FakeFaults,
  fastEngineOptions,
  memoryPackage,
} from './fake-device.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-sparse-engine-'));
after(() => rmSync(home, { recursive: true, force: true }));
let jn = 0;

function options(extra: Partial<EngineOptions> = {}): EngineOptions {
  // Pieces larger than the device's buffer: the buffer is the limit.
  return fastEngineOptions(join(home, `journal-${jn++}`), { pieceSize: 64 * 1024 * 1024, ...extra });
}

const MAX_DOWNLOAD = 256 * 1024;
const boot = bootImage('2.0', 64 * 1024);
/** 1 MiB: data blocks with a fill run and a zero run in the middle. */
const systemRaw = (() => {
  const b = bootImage('sys', 1024 * 1024);
  b.fill(0x5a, 300 * 1024, 400 * 1024);
  b.fill(0, 600 * 1024, 700 * 1024);
  return b;
})();

async function sparseOf(raw: Buffer, zeroBlocks: 'fill' | 'skip' = 'fill'): Promise<Buffer> {
  const layout = await scanRawLayout([raw], { zeroBlocks });
  const parts: Buffer[] = [];
  for await (const c of encodeSparse(layout, [raw]).stream) parts.push(Buffer.from(c));
  return Buffer.concat(parts);
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

async function run(system: Buffer, faults: FakeFaults = {}, opts = options(), corrupt?: string) {
  const connector = new FakeConnector();
  const device = new FakeDevice('SER1', faults);
  device.vars.set('max-download-size', `0x${MAX_DOWNLOAD.toString(16)}`);
  connector.devices.set('fake:1', device);
  const pkg = memoryPackage(
    [
      { partition: 'boot', data: boot },
      { partition: 'system', data: system, sparse: true },
    ],
    corrupt ? { corrupt } : {},
  );
  const report = await runJob({ deviceId: 'fake:1', pkg, connector, options: opts, emit: () => undefined });
  return { report, device, pkg };
}

describe('flash engine with sparse images over max-download-size', () => {
  it('re-splits and flashes them; the device holds the expanded image, verified', async () => {
    const system = await sparseOf(systemRaw);
    assert.ok(system.length > MAX_DOWNLOAD, `sparse image is ${system.length} bytes`);
    const { report, device } = await run(system);
    assert.equal(report.status, 0, report.message);
    assert.equal(device.sha('system_b'), sha(systemRaw));
    assert.equal(report.deviceVerification, 'ok');
    assert.ok(device.largestDownload <= MAX_DOWNLOAD, `largest download ${device.largestDownload}`);
    const systemFlashes = device.log.filter((l) => l === 'flash:system_b').length;
    assert.ok(systemFlashes >= Math.ceil(system.length / MAX_DOWNLOAD), `${systemFlashes} pieces`);
    assert.equal(device.active, 'b');
  });

  it('resumes a sparse image at the next piece after a cable pull', async () => {
    const system = await sparseOf(systemRaw);
    const { report, device } = await run(system, { dropAtByte: 600 * 1024, offlineAttempts: 1 });
    assert.equal(report.status, 0, report.message);
    assert.ok(report.resumes >= 1, 'the job reconnected and resumed');
    assert.equal(device.sha('system_b'), sha(systemRaw));
    const wire = boot.length + system.length + 2 * 1024;
    assert.ok(
      device.downloaded < wire + MAX_DOWNLOAD,
      `resent at most one piece (${device.downloaded} bytes for ${wire})`,
    );
  });

  it('says verification is not available when DONT_CARE regions leave old bytes', async () => {
    const system = await sparseOf(systemRaw, 'skip');
    const { report } = await run(system);
    assert.equal(report.status, 0, report.message);
    assert.equal(report.deviceVerification, 'not-available');
    assert.ok(report.messages.some((m) => m.includes('DONT_CARE')));
  });

  it('a corrupt sparse image is caught by the planning pass: 28, nothing written', async () => {
    const system = await sparseOf(systemRaw);
    const { report, device } = await run(system, {}, options(), 'system');
    assert.equal(report.status, 28, report.message);
    assert.equal(device.flashCount, 0);
  });

  it('journals the plan identity; a resumed job whose plan differs rewrites that image from the start', async () => {
    const system = await sparseOf(systemRaw);
    const opts = options({ retry: { attempts: 0, baseDelayMs: 1, maxDelayMs: 1 } });
    const first = await run(system, { hang: ['flash:system_b'] }, opts);
    assert.equal(first.report.status, 12);
    const path = join(opts.journalDir, `${first.report.jobId}.jsonl`);
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .filter((l) => l && !l.includes('"type":"end"'));
    const piecesRecords = lines.filter((l) => l.includes('"type":"pieces"')).map((l) => JSON.parse(l));
    assert.deepEqual(
      piecesRecords.map((r) => r.partition),
      ['boot_b', 'system_b'],
    );
    const sizes: number[] = piecesRecords[1].sizes;
    assert.ok(sizes.length >= Math.ceil(system.length / MAX_DOWNLOAD));
    assert.ok(sizes.every((n) => n <= MAX_DOWNLOAD));
    // Pretend boot_b was written under another plan (e.g. another buffer size).
    const edited = lines.map((l) =>
      l.includes('"type":"pieces"') && l.includes('"boot_b"')
        ? l.replace(/"sizes":\[\d+\]/, '"sizes":[7,7]')
        : l,
    );
    writeFileSync(path, `${edited.join('\n')}\n`);
    const [state] = await listInterrupted(opts.journalDir);
    assert.ok(state);
    assert.equal(state.pieces.get('boot_b')?.size, 1);
    const device = first.device;
    device.faults.hang = [];
    const bootFlashesBefore = device.log.filter((l) => l === 'flash:boot_b').length;
    const second = await runJob({
      deviceId: 'fake:1',
      pkg: first.pkg,
      connector: (() => {
        const c = new FakeConnector();
        c.devices.set('fake:1', device);
        return c;
      })(),
      options: opts,
      emit: () => undefined,
      resume: state,
    });
    assert.equal(second.status, 0, second.message);
    assert.equal(device.log.filter((l) => l === 'flash:boot_b').length, bootFlashesBefore + 1);
    assert.ok(second.messages.some((m) => m.includes('piece plan of boot_b changed')));
    assert.equal(device.sha('system_b'), sha(systemRaw));
    assert.match(readFileSync(path, 'utf8'), /"type":"reset","partition":"boot_b"/);
  });
});
