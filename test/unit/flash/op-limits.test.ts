/**
 * Every device call carries the limit the engine computed for it: a slow device (every reply delayed by the
 * virtual device's latency fault) is flashed even though the link's own default would give up first, and
 * when a limit does expire the report names the operation and the limit.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDemoRig } from '../../../main/cli/commands/demo.js';
import { FastbootConnector } from '../../../main/flash/adapters/fastboot.js';
import { describeLimit } from '../../../main/flash/context.js';
import { FlashService } from '../../../main/flash/service.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-limits-'));
after(() => rmSync(home, { recursive: true, force: true }));

const LATENCY_MS = 250;

async function flashSlowDevice(name: string, commandMs: number) {
  const rig = await startDemoRig({
    devices: 1,
    dir: join(home, name, 'rig'),
    pkg: { bootSize: 64 * 1024, systemSize: 64 * 1024 },
    device: { bootDelayMs: 50 },
    faults: () => ({ latencyMs: LATENCY_MS }),
  });
  try {
    const service = new FlashService({
      home: join(home, name),
      // The link's own default answer time is far below the device's latency: only a passed limit works.
      connector: new FastbootConnector({ responseTimeoutMs: LATENCY_MS / 5, dataTimeoutMs: LATENCY_MS / 5 }),
      engine: {
        timeouts: { commandMs, minDownloadBytesPerSecond: 1 << 20, rebootMs: 10_000, connectMs: 3_000 },
        retry: { attempts: 0, baseDelayMs: 10, maxDelayMs: 10 },
        pieceSize: 1 << 20,
      },
    });
    const [id] = await service.flash(rig.packagePath, [rig.devices[0]!.address]);
    return await service.manager.wait(id!);
  } finally {
    await rig.stop();
  }
}

describe('per-call limits', () => {
  it('flashes a slow device: each call waits for its computed limit, not the link default', async () => {
    const report = await flashSlowDevice('slow-ok', 5_000);
    assert.equal(report.status, 0, report.message);
  });

  it('says which limit expired and how long it was', async () => {
    const report = await flashSlowDevice('slow-expired', LATENCY_MS / 2);
    assert.equal(report.status, 12, report.message);
    // The first call is the capability probe, a listing bounded at 8 command limits (8 × 0.125 s).
    assert.match(report.message, /^getvar all: no answer within its limit of 1 s$/);
  });

  it('describes limits for people', () => {
    assert.equal(describeLimit(125), '0.13 s');
    assert.equal(describeLimit(2_500), '2.5 s');
    assert.equal(describeLimit(90_000), '90 s');
    assert.equal(describeLimit(290_000), '4 min 50 s');
  });
});
