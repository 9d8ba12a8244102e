/** The machine's load average, printed beside every figure (benchmarks here share 2 cores with other work). */
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
