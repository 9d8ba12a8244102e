/** The machine's load average, printed beside every figure (benchmarks here share 2 cores with other work). */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';

export interface LoadSample {
  /** 1-, 5- and 15-minute load averages. */
  readonly avg: readonly [number, number, number];
  /** As `uptime` prints it: `0.42, 0.67, 1.10`. */
  readonly text: string;
}

export function loadNow(): LoadSample {
  const [a = 0, b = 0, c = 0] = loadavg();
  return { avg: [a, b, c], text: [a, b, c].map((x) => x.toFixed(2)).join(', ') };
}

/**
 * A thread's time on a CPU and waiting for one (Linux /proc/PID/schedstat, nanoseconds), in seconds: on a
 * loaded machine the wait says how much of a run went to other work rather than to this process. PID
 * `self` is this process's main thread.
 */
export function schedSeconds(pid: number | 'self' = 'self'): { onCpu: number; waiting: number } {
  try {
    const [run = '0', wait = '0'] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(/\s+/);
    return { onCpu: Number(run) / 1e9, waiting: Number(wait) / 1e9 };
  } catch {
    return { onCpu: 0, waiting: 0 };
  }
}
