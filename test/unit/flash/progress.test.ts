import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type ProgressEvent, ProgressMeter } from '../../../main/flash/progress.js';

function meter() {
  let now = 0;
  const events: ProgressEvent[] = [];
  const m = new ProgressMeter(
    'j',
    'd',
    (e) => events.push(e),
    () => now,
  );
  return { m, events, tick: (ms: number) => (now += ms) };
}

describe('progress meter', () => {
  it('throttles to about 4 Hz but always reports the start and the end of a stage', () => {
    const { m, events, tick } = meter();
    m.begin('download', 1000);
    for (let i = 0; i < 100; i++) {
      tick(10);
      m.add(10);
    }
    // 1 s of updates every 10 ms: start + ~4 throttled + final.
    assert.ok(events.length >= 4 && events.length <= 7, `${events.length} events`);
    assert.equal(events.at(-1)?.bytesDone, 1000);
    assert.equal(events.at(-1)?.eta, 0);
  });

  it('never goes backwards within a stage (a re-sent piece does not move the bar back)', () => {
    const { m, events, tick } = meter();
    m.begin('download', 1000);
    tick(300);
    m.set(600);
    tick(300);
    m.set(200);
    tick(300);
    m.set(700);
    const done = events.map((e) => e.bytesDone);
    assert.deepEqual(
      done,
      [...done].sort((a, b) => a - b),
    );
    assert.equal(done.at(-1), 700);
  });

  it('measures rate from bytes moved and derives the ETA from it', () => {
    const { m, events, tick } = meter();
    m.begin('download', 10_000);
    for (let i = 0; i < 4; i++) {
      tick(500);
      m.add(1000);
    }
    const last = events.at(-1)!;
    assert.equal(last.rate, 2000);
    assert.equal(last.eta, Math.ceil((10_000 - last.bytesDone) / 2000));
  });

  it('has no ETA before a rate is measurable', () => {
    const { m, events } = meter();
    m.begin('download', 100);
    assert.equal(events[0]!.eta, null);
  });
});
