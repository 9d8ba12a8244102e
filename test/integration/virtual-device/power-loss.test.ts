/**
 * The power-loss matrix: cut the power at many points of download, flash, set_active, reboot, erase and
 * mark-successful during an update. After every restart the device must run a valid slot, the rollback
 * index must not have decreased, and re-running the update must finish it.
 */
import assert from 'node:assert/strict';
import { type TestContext, test } from 'node:test';
import fc from 'fast-check';
import type { PowerLossFault, VirtualDeviceHandle } from '../../../virtual-device/index.js';
import {
  image,
  KiB,
  link,
  startSmallDevice,
  tempDir,
  update,
} from '../../unit/virtual-device/helpers/fixtures.js';

const IMAGE_SIZE = 64 * KiB;

function assertHealthy(vd: VirtualDeviceHandle, minRollback: number, label: string): void {
  const d = vd.device;
  assert.equal(d.mode, 'os', `${label}: the device boots a slot`);
  const slot = d.bootedSlot;
  assert.ok(slot, `${label}: a slot is booted`);
  assert.equal(d.bootControl.slots[slot].unbootable, false, `${label}: the booted slot is bootable`);
  assert.ok(
    ['2.0.0', '3.0.0'].includes(d.runningVersion),
    `${label}: runs a complete image (${d.runningVersion})`,
  );
  assert.ok(d.rollbackIndex >= minRollback, `${label}: rollback index ${d.rollbackIndex} >= ${minRollback}`);
}

async function runCase(t: TestContext, fault: PowerLossFault): Promise<void> {
  const label = `${fault.stage}:${fault.at}`;
  const vd = await startSmallDevice(t, { stateDir: await tempDir(t) });
  // Known-good starting point: v2 committed on slot b, rollback index 2.
  await update(vd, await image('2.0.0', 2, IMAGE_SIZE));
  assertHealthy(vd, 2, `${label} before`);
  const v3 = await image('3.0.0', 3, IMAGE_SIZE);
  vd.device.faults = { powerLoss: fault };
  if (fault.stage === 'erase') {
    const c = await link(vd);
    await c.command('erase:boot_a').catch(() => undefined);
    c.close();
  } else {
    await update(vd, v3).catch(() => undefined);
  }
  await vd.whenUp();
  assert.equal(vd.device.faults.powerLoss, undefined, `${label}: the cut happened`);
  assertHealthy(vd, 2, `${label} after the cut`);
  // The host resumes: the update runs again from the start and completes.
  await update(vd, v3);
  assert.equal(vd.device.runningVersion, '3.0.0', `${label}: resumed update runs v3`);
  assert.equal(vd.device.rollbackIndex, 3, `${label}: committed`);
  assertHealthy(vd, 3, `${label} resumed`);
}

const MATRIX: PowerLossFault[] = [
  ...[0, 1, 4096, IMAGE_SIZE / 2, IMAGE_SIZE - 1].map((at) => ({ stage: 'download' as const, at })),
  ...[0, 1, 4096, IMAGE_SIZE / 2, IMAGE_SIZE - 1].map((at) => ({ stage: 'flash' as const, at })),
  { stage: 'set_active', at: 0 },
  { stage: 'set_active', at: 1 },
  { stage: 'reboot', at: 0 },
  { stage: 'reboot', at: 1 },
  { stage: 'mark-successful', at: 0 },
  { stage: 'mark-successful', at: 1 },
  { stage: 'mark-successful', at: 2 },
  { stage: 'erase', at: 0 },
  { stage: 'erase', at: 1 },
];

for (const fault of MATRIX) {
  test(`power loss at ${fault.stage}:${fault.at}`, (t) => runCase(t, fault));
}

test('power loss at random byte offsets of download and flash', async (t) => {
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom('download' as const, 'flash' as const),
      fc.integer({ min: 0, max: IMAGE_SIZE - 1 }),
      async (stage, at) => runCase(t, { stage, at }),
    ),
    { numRuns: 6, seed: 20261124 },
  );
});

test('power loss from the outside (handle.powerCut) in the middle of an update', async (t) => {
  const vd = await startSmallDevice(t, { stateDir: await tempDir(t) });
  await update(vd, await image('2.0.0', 2, IMAGE_SIZE));
  const c = await link(vd);
  await c.flashBytes('boot_a', await image('3.0.0', 3, IMAGE_SIZE));
  await vd.powerCut();
  assert.equal(
    c.closed ||
      (await c.command('getvar:product').then(
        () => false,
        () => true,
      )),
    true,
  );
  assertHealthy(vd, 2, 'external cut');
  assert.equal(vd.device.bootedSlot, 'b');
});
