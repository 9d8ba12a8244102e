/**
 * Frame time from a Chromium performance trace (Playwright's `browser.startTracing`, the DevTools timeline
 * categories): for every frame of the page's main thread (boundaries: `BeginMainThreadFrame`, or
 * `FireAnimationFrame` when the trace has none), the time the main thread spent in tasks (`RunTask`) that
 * started in that frame. This is the time the page needed to produce the frame — what must stay under the
 * 16.7 ms of a 60 Hz display — independent of the display tick that rAF intervals would measure.
 */

interface TraceEvent {
  readonly name: string;
  readonly ph: string;
  readonly pid: number;
  readonly tid: number;
  readonly ts: number;
  readonly dur?: number;
  /** Thread (CPU) time of the event, µs: unlike `dur`, it leaves out time the thread was preempted. */
  readonly tdur?: number;
  readonly args?: { readonly name?: string };
}

export interface FrameTimes {
  readonly frames: number;
  readonly p50Ms: number;
  readonly p95Ms: number;
  readonly maxMs: number;
  /** p95 of the same per-frame sums in thread (CPU) time: on a loaded machine, what the page itself needed. */
  readonly cpuP95Ms: number;
  /** Tasks over 50 ms (what Chromium calls long tasks). */
  readonly longTasks: number;
}

export const TRACE_CATEGORIES = [
  'devtools.timeline',
  'disabled-by-default-devtools.timeline',
  'disabled-by-default-devtools.timeline.frame',
];

export function frameTimes(trace: Buffer): FrameTimes {
  const parsed = JSON.parse(trace.toString('utf8')) as { traceEvents?: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(parsed) ? parsed : (parsed.traceEvents ?? []);
  // The page's renderer main thread: the CrRendererMain that ran the most tasks.
  const mains = events.filter(
    (e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain',
  );
  const key = (e: { pid: number; tid: number }) => `${e.pid}:${e.tid}`;
  const mainKeys = new Set(mains.map(key));
  const tasksBy = new Map<string, TraceEvent[]>();
  for (const e of events) {
    if (e.name !== 'RunTask' || e.ph !== 'X' || !mainKeys.has(key(e))) continue;
    const list = tasksBy.get(key(e)) ?? [];
    list.push(e);
    tasksBy.set(key(e), list);
  }
  const [mainKey, tasks] = [...tasksBy].sort((a, b) => b[1].length - a[1].length)[0] ?? ['', []];
  const onMain = (name: string) =>
    events.filter((e) => e.name === name && key(e) === mainKey).map((e) => e.ts);
  let bounds = onMain('BeginMainThreadFrame');
  if (bounds.length < 2) bounds = onMain('FireAnimationFrame');
  bounds.sort((a, b) => a - b);
  tasks.sort((a, b) => a.ts - b.ts);
  const frames = Math.max(0, bounds.length - 1);
  const wall: number[] = new Array(frames).fill(0);
  const cpu: number[] = new Array(frames).fill(0);
  let f = 0;
  for (const t of tasks) {
    while (f < bounds.length - 1 && t.ts >= bounds[f + 1]!) f++;
    if (t.ts < bounds[0]! || f >= frames) continue;
    wall[f]! += (t.dur ?? 0) / 1000;
    cpu[f]! += (t.tdur ?? t.dur ?? 0) / 1000;
  }
  const sorted = wall.sort((a, b) => a - b);
  const at = (xs: number[], q: number) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))] ?? 0;
  return {
    frames,
    p50Ms: round(at(sorted, 0.5)),
    p95Ms: round(at(sorted, 0.95)),
    maxMs: round(sorted[sorted.length - 1] ?? 0),
    cpuP95Ms: round(
      at(
        cpu.sort((a, b) => a - b),
        0.95,
      ),
    ),
    longTasks: tasks.filter((t) => (t.dur ?? 0) > 50_000).length,
  };
}

function round(x: number): number {
  return Number(x.toFixed(2));
}
