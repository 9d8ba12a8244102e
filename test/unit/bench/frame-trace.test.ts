/**
 * The UI benchmark's frame time: main-thread task time per frame interval of the page's renderer thread,
 * read from a Chromium trace (other threads and processes ignored).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { frameTimes } from '../../../bench/_frame-trace.js';

const MAIN = { pid: 7, tid: 1 };
const OTHER = { pid: 8, tid: 1 };
const meta = (who: { pid: number; tid: number }, name: string) => ({
  ...who,
  ph: 'M',
  ts: 0,
  name: 'thread_name',
  args: { name },
});
const frame = (ts: number) => ({ ...MAIN, ph: 'I', name: 'BeginMainThreadFrame', ts });
const task = (who: { pid: number; tid: number }, ts: number, ms: number) => ({
  ...who,
  ph: 'X',
  name: 'RunTask',
  ts,
  dur: ms * 1000,
});

describe('frame times from a trace', () => {
  it('sums the main thread tasks of each frame interval and takes percentiles', () => {
    const events = [
      meta(MAIN, 'CrRendererMain'),
      meta(OTHER, 'CrRendererMain'),
      ...[0, 16_667, 33_333, 50_000, 66_667].map(frame),
      task(MAIN, 1_000, 2),
      task(MAIN, 5_000, 3), // frame 0: 5 ms
      task(MAIN, 17_000, 1), // frame 1: 1 ms
      task(MAIN, 34_000, 60), // frame 2: a long task
      task(MAIN, 51_000, 4), // frame 3: 4 ms
      task(OTHER, 51_000, 100), // another renderer: ignored
      task(OTHER, 52_000, 100),
    ];
    const r = frameTimes(Buffer.from(JSON.stringify({ traceEvents: events })));
    assert.equal(r.frames, 4);
    assert.equal(r.p50Ms, 5);
    assert.equal(r.p95Ms, 60);
    assert.equal(r.maxMs, 60);
    assert.equal(r.longTasks, 1);
    assert.equal(r.cpuP95Ms, 60, 'no thread time in the trace: wall time stands in');
  });

  it('counts thread time apart from wall time (a preempted task)', () => {
    const events = [
      meta(MAIN, 'CrRendererMain'),
      frame(0),
      frame(16_667),
      { ...task(MAIN, 1_000, 40), tdur: 4_000 },
    ];
    const r = frameTimes(Buffer.from(JSON.stringify({ traceEvents: events })));
    assert.equal(r.p95Ms, 40);
    assert.equal(r.cpuP95Ms, 4);
  });

  it('says 0 frames for a trace without them', () => {
    const r = frameTimes(Buffer.from(JSON.stringify([meta(MAIN, 'CrRendererMain')])));
    assert.deepEqual(r, { frames: 0, p50Ms: 0, p95Ms: 0, maxMs: 0, cpuP95Ms: 0, longTasks: 0 });
  });
});
