/**
 * fleet.* through the API: inputs validated at the boundary, an unconfigured history says how to configure
 * it, queries pass through to FleetQueries, the live stream starts with a snapshot and follows changes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { FleetContext } from '../../../main/api/fleet-context.js';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import type { FleetQueries, JobFilter } from '../../../main/fleet/contract.js';
import type { LiveSnapshot } from '../../../main/fleet/live/index.js';

function callerFor(fleet?: FleetContext) {
  return createCallerFactory(appRouter)({
    version: 't',
    mode: 'station',
    devices: new DeviceRegistry(),
    demo: false,
    ...(fleet ? { fleet } : {}),
  });
}

const asked: { filter?: JobFilter; cursor?: string | null | undefined; limit?: number } = {};
const queries: FleetQueries = {
  async searchJobs(filter, cursor, limit) {
    Object.assign(asked, { filter, cursor, limit });
    return { jobs: [], nextCursor: null };
  },
  async stats() {
    return { buckets: [], byCode: [{ status: 42, statusName: 'booted_old_slot', count: 2 }] };
  },
  async lastFailures() {
    return [];
  },
  async stations() {
    return [
      { station: 'line-1', site: 's', lastJobAt: null, jobs24h: 0, lastSyncAt: '2026-01-01T00:00:00.000Z' },
    ];
  },
};

describe('fleet.* API', () => {
  it('says how to configure the history when there is none, and that the bus is not configured', async () => {
    const api = callerFor();
    await assert.rejects(api.fleet.lastFailures({ n: 5 }), /flashline fleet init --db/);
    const overview = await api.fleet.overview();
    assert.deepEqual(overview, {
      live: { configured: false, connected: false },
      history: { configured: false },
      stations: [],
    });
  });

  it('validates inputs and passes queries through', async () => {
    const api = callerFor({ queries });
    await assert.rejects(api.fleet.search({ filter: { status: 'broken' } }), /status is ok, failed/);
    await assert.rejects(api.fleet.lastFailures({ n: 1000 }), /too_big/);
    await assert.rejects(api.fleet.stats({ sinceHours: 1, bucketMinutes: 0 }), /too_small/);
    await api.fleet.search({ filter: { product: 'X', status: '4x' }, cursor: 'c1' });
    assert.deepEqual(asked, { filter: { product: 'X', status: '4x' }, cursor: 'c1', limit: 50 });
    assert.equal((await api.fleet.stats({ sinceHours: 24, bucketMinutes: 60 })).byCode[0]?.count, 2);
    assert.equal((await api.fleet.overview()).stations[0]?.station, 'line-1');
  });

  it('streams the live snapshot: one now, one after a change', async () => {
    let snapshot: LiveSnapshot = { connected: true, broker: 'b', stations: [], rejected: 0 };
    const listeners: (() => void)[] = [];
    const api = callerFor({
      live: {
        snapshot: () => snapshot,
        onChange: (l) => {
          listeners.push(l);
          return () => undefined;
        },
      },
    });
    const stream = await api.fleet.live();
    const it = stream[Symbol.asyncIterator]();
    assert.equal((await it.next()).value?.rejected, 0);
    snapshot = { ...snapshot, rejected: 3 };
    const next = it.next();
    for (const l of listeners) l();
    assert.equal((await next).value?.rejected, 3);
    await it.return?.();
  });
});
