/**
 * fleet.rollout through the API: nothing configured → no live part and no packages; the live OTA view and the
 * rollout history pass through; a history that fails becomes a problem beside the live part (never a thrown
 * error that would hide the live codes); the limit is validated at the boundary.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FleetContext } from '../../../main/api/fleet-context.js';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import type { RolloutPackage } from '../../../main/fleet/contract.js';
import type { OtaLiveSnapshot, OtaLiveView } from '../../../main/fleet/ota-ingest.js';

function callerFor(fleet?: FleetContext) {
  return createCallerFactory(appRouter)({
    version: 't',
    mode: 'station',
    devices: new DeviceRegistry(),
    demo: false,
    ...(fleet ? { fleet } : {}),
  });
}

const snapshot: OtaLiveSnapshot = {
  connected: true,
  storing: true,
  devices: [],
  devicesKnown: 0,
  received: 3,
  stored: 2,
  stale: 0,
  dropped: 1,
  lastDrop: 'report is not JSON',
  waiting: 0,
};
const ota: OtaLiveView = { snapshot: () => snapshot, onChange: () => () => undefined };
const pkg: RolloutPackage = {
  packageId: 'demo',
  packageVersion: '2.0.0',
  devices: { installed: 2, inProgress: 1, failed: [{ status: 42, statusName: 'booted_old_slot', count: 1 }] },
  stations: { stations: 1, passed: 4, failed: [] },
  lastActivityAt: '2026-01-01T00:00:00.000Z',
};

describe('fleet.rollout API', () => {
  it('answers with neither part when the station has no broker and no database', async () => {
    assert.deepEqual(await callerFor().fleet.rollout({ limit: 10 }), { live: null, packages: null });
  });

  it('passes the live view and the history through, and validates the limit', async () => {
    let asked = 0;
    const api = callerFor({
      ota,
      rollout: {
        async rollout(limit) {
          asked = limit;
          return [pkg];
        },
      },
    });
    assert.deepEqual(await api.fleet.rollout({ limit: 20 }), { live: snapshot, packages: [pkg] });
    // Only the newest devices cross the API.
    const many: OtaLiveSnapshot = {
      ...snapshot,
      devices: Array.from({ length: 150 }, (_, i) => ({
        attemptId: `a${i}`,
        seq: 1,
        site: 's',
        serial: `D${i}`,
        product: 'p',
        packageId: 'demo',
        packageVersion: '2.0.0',
        phase: 'downloading',
        bytesDone: 0,
        bytesTotal: 1,
        startedAt: '2026-01-01T00:00:00.000Z',
        at: '2026-01-01T00:00:00.000Z',
      })),
      devicesKnown: 150,
    };
    const crowded = callerFor({ ota: { snapshot: () => many, onChange: () => () => undefined } });
    const r = await crowded.fleet.rollout({ limit: 1 });
    assert.equal(r.live?.devices.length, 100);
    assert.equal(r.live?.devices[0]?.serial, 'D0');
    assert.equal(r.live?.devicesKnown, 150);
    assert.equal(asked, 20);
    await assert.rejects(api.fleet.rollout({ limit: 0 }), /too_small/);
    await assert.rejects(api.fleet.rollout({ limit: 201 }), /too_big/);
  });

  it('keeps the live codes when the history fails, and says why', async () => {
    const api = callerFor({
      ota,
      rollout: {
        async rollout() {
          throw new Error('the fleet database at db:5432/fleet is not reachable (ECONNREFUSED)');
        },
      },
    });
    const r = await api.fleet.rollout({ limit: 10 });
    assert.deepEqual(r.live, snapshot);
    assert.equal(r.packages, null);
    assert.match(r.problem ?? '', /not reachable/);
  });
});
