/**
 * Many devices at once in the page: events gathered per frame (one render for a frame's worth), applied
 * with one copy of the job map, unchanged jobs keep their identity (memoised rows skip them), and the Flash
 * screen lists every running job.
 */
import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, it } from 'node:test';
import type { JobEvent } from '../../../main/api/types.js';
import { frameBatch, MAX_BATCH_WAIT_MS } from '../../../renderer/src/api/frame-batch.js';
import { applyJobEvent, applyJobEvents, type JobMap, shownJobs } from '../../../renderer/src/api/jobs.js';

/** A stand-in for the page's frame clock: frames run when the test says so. */
const frames = new Map<number, () => void>();
let nextFrame = 1;
const g = globalThis as unknown as {
  requestAnimationFrame?: (cb: () => void) => number;
  cancelAnimationFrame?: (id: number) => void;
};
function runFrames(): void {
  const due = [...frames.values()];
  frames.clear();
  for (const cb of due) cb();
}

function progress(jobId: string, bytesDone: number): JobEvent {
  return {
    type: 'progress',
    jobId,
    deviceId: `dev-${jobId}`,
    stage: 'download',
    bytesDone,
    bytesTotal: 100,
    rate: 1,
    eta: 1,
  };
}

describe('frame batch', () => {
  beforeEach(() => {
    g.requestAnimationFrame = (cb) => {
      frames.set(nextFrame, cb);
      return nextFrame++;
    };
    g.cancelAnimationFrame = (id) => frames.delete(id);
  });
  afterEach(() => {
    delete g.requestAnimationFrame;
    delete g.cancelAnimationFrame;
    frames.clear();
  });

  it('hands over everything that arrived before the frame, once, in order', () => {
    const flushed: number[][] = [];
    const batch = frameBatch<number>((items) => flushed.push(items));
    for (let i = 0; i < 256; i++) batch.push(i);
    assert.deepEqual(flushed, []);
    runFrames();
    assert.equal(flushed.length, 1);
    assert.deepEqual(
      flushed[0],
      Array.from({ length: 256 }, (_, i) => i),
    );
    runFrames();
    assert.equal(flushed.length, 1, 'an empty frame flushes nothing');
    batch.push(300);
    runFrames();
    assert.deepEqual(flushed[1], [300]);
    batch.cancel();
  });

  it('flushes by timer when no frame comes (a hidden tab), and cancel drops what is queued', async () => {
    const flushed: string[][] = [];
    const batch = frameBatch<string>((items) => flushed.push(items));
    batch.push('a');
    batch.push('b');
    await new Promise((r) => setTimeout(r, MAX_BATCH_WAIT_MS + 50));
    assert.deepEqual(flushed, [['a', 'b']]);
    assert.equal(frames.size, 0, 'the pending frame was cancelled by the timer flush');
    batch.push('c');
    batch.cancel();
    runFrames();
    await new Promise((r) => setTimeout(r, MAX_BATCH_WAIT_MS + 50));
    assert.deepEqual(flushed, [['a', 'b']]);
  });
});

describe('applying a batch of job events', () => {
  it('equals applying them one by one, and jobs without events keep their identity', () => {
    let one: JobMap = new Map();
    const first = Array.from({ length: 64 }, (_, i) => progress(`j${i}`, 10));
    for (const e of first) one = applyJobEvent(one, e, 1000);
    const batched = applyJobEvents(new Map(), first, 1000);
    assert.deepEqual([...batched.entries()], [...one.entries()]);

    const next = applyJobEvents(batched, [progress('j3', 20), progress('j3', 30), progress('j9', 40)], 1250);
    assert.equal(next.get('j3')?.bytesDone, 30);
    assert.equal(next.get('j9')?.bytesDone, 40);
    for (const [id, job] of batched) {
      if (id === 'j3' || id === 'j9') assert.notEqual(next.get(id), job);
      else assert.equal(next.get(id), job, `${id} unchanged`);
    }
    assert.equal(applyJobEvents(next, []), next, 'no events: the same map');
  });
});

describe('Flash screen rows', () => {
  it('lists every running job, then the newest finished ones up to the limit', () => {
    let jobs: JobMap = new Map();
    for (let i = 0; i < 10; i++) {
      jobs = applyJobEvent(jobs, progress(`old${i}`, 100), 1000);
      jobs = new Map(
        [...jobs].map(([id, j]) => [id, id === `old${i}` ? { ...j, state: 'done' as const } : j]),
      );
    }
    for (let i = 0; i < 64; i++) jobs = applyJobEvent(jobs, progress(`run${i}`, 10), 2000);
    const { all, jobs: shown } = shownJobs(jobs, 50);
    assert.equal(all.length, 74);
    assert.equal(shown.length, 64, 'all 64 running jobs, no finished one');
    assert.ok(shown.every((j) => j.state === 'running'));
    assert.equal(shown[0]?.jobId, 'run63', 'newest first');
    const few = shownJobs(new Map([...jobs].filter(([id]) => id.startsWith('old') || id === 'run0')), 5);
    assert.deepEqual(
      few.jobs.map((j) => j.jobId),
      ['run0', 'old9', 'old8', 'old7', 'old6'],
    );
  });
});
