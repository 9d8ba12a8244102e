import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { LiveSnapshot } from '../../../main/api/types.js';
import { searchFilter, stationRows, throughput } from '../../../renderer/src/api/fleet.js';

describe('fleet view data', () => {
  it('merges live and remembered stations, one row each', () => {
    const live: LiveSnapshot = {
      connected: true,
      broker: 'b',
      rejected: 0,
      stations: [
        {
          site: 's',
          station: 'b',
          online: false,
          reason: 'lost',
          lastSeen: '2026-01-01T00:00:00.000Z',
          devices: [
            {
              deviceId: 'tcp:1',
              state: {
                v: 1,
                deviceId: 'tcp:1',
                mode: 'fastboot',
                state: 'busy',
                job: { jobId: 'j', stage: 'install' },
                at: '2026-01-01T00:00:00.000Z',
              },
            },
            { deviceId: 'tcp:2' },
          ],
        },
      ],
    };
    const rows = stationRows(live, [
      { site: 's', station: 'a', lastJobAt: null, jobs24h: 0, lastSyncAt: '2026-01-01T00:00:00.000Z' },
      {
        site: 's',
        station: 'b',
        lastJobAt: '2026-01-01T00:00:00.000Z',
        jobs24h: 7,
        lastSyncAt: '2026-01-01T00:01:00.000Z',
      },
    ]);
    assert.deepEqual(
      rows.map((r) => [r.station, r.online, r.devices, r.busy, r.jobs24h, r.reason, r.lastSyncAt]),
      [
        ['a', null, 0, 0, 0, undefined, '2026-01-01T00:00:00.000Z'],
        ['b', false, 1, 1, 7, 'lost', '2026-01-01T00:01:00.000Z'],
      ],
    );
  });

  it('turns buckets into units/hour per station on a gap-free axis', () => {
    const since = Date.parse('2026-01-01T10:00:00Z');
    const s = throughput(
      {
        buckets: [
          {
            site: 's',
            station: 'a',
            bucketStart: '2026-01-01T10:05:00.000Z',
            units: 3,
            passed: 3,
            failed: 0,
          },
          {
            site: 's',
            station: 'b',
            bucketStart: '2026-01-01T10:15:00.000Z',
            units: 1,
            passed: 0,
            failed: 1,
          },
        ],
        byCode: [],
      },
      5,
      since,
      since + 20 * 60_000,
    );
    assert.equal(s.times.length, 5);
    assert.deepEqual(s.stations, ['s/a', 's/b']);
    assert.deepEqual(s.values, [
      [0, 36, 0, 0, 0],
      [0, 0, 0, 12, 0],
    ]);
  });

  it('makes the API filter from the search form, leaving empty fields out', () => {
    const now = new Date(2026, 0, 2, 15, 30);
    assert.deepEqual(
      searchFilter({ text: ' ', product: 'X', status: '4x', station: '', since: 'today' }, now),
      {
        since: new Date(2026, 0, 2).toISOString(),
        product: 'X',
        status: '4x',
      },
    );
  });
});
