/**
 * The soak benchmark, short: a few hundred jobs on 8 ports with units plugged and unplugged at random
 * times and random faults (cable pull, bad boot, latency, pulled mid-job). Asserts the invariants, never
 * timings: every finished job has its report, no crash, no unit left without a bootable slot, no journal
 * left behind, the job list and open file descriptors bounded.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSoak } from '../../../bench/soak.js';

describe('soak (short)', () => {
  it('keeps every report, never crashes, never bricks a unit, stays bounded', {
    timeout: 280_000,
  }, async () => {
    const keep = { count: 16, ageMs: 60_000 };
    const r = await runSoak({ jobs: 240, devices: 8, seed: 7, keepFinished: keep });
    const detail = JSON.stringify(r);
    assert.equal(r.jobs, 240, detail);
    assert.equal(r.lostReports, 0, detail);
    assert.equal(r.reportsStored, r.jobs, detail);
    assert.equal(r.crashes, 0, detail);
    assert.equal(r.simulatorFailures, 0, detail);
    assert.equal(r.unbootable, 0, detail);
    assert.equal(r.journalsLeft, 0, detail);
    assert.ok(r.jobsListed <= keep.count, detail);
    // Most units pass; the failures are the injected ones (bad boot 42, pulled cable 1x).
    assert.ok((r.codes['0'] ?? 0) >= r.jobs * 0.8, detail);
    const { at10, at100 } = r.samples;
    if (at10.openFds !== null && at100.openFds !== null)
      assert.ok(at100.openFds <= at10.openFds + 2 * r.devices, `open fds grew: ${detail}`);
  });
});
