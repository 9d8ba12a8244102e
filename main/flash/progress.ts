/**
 * Progress of one job: bytes done per stage (never backwards), rate measured from bytes actually moved over
 * a sliding window, ETA = bytes left / measured rate. Throttled to ~4 Hz at the source, so every consumer
 * (API, CLI, reports) sees the same bounded stream; the first and the final update of a stage always pass.
 */
import type { Stage } from './stages.js';

export interface ProgressEvent {
  readonly jobId: string;
  readonly deviceId: string;
  readonly stage: Stage;
  readonly bytesDone: number;
  readonly bytesTotal: number;
  /** Bytes per second measured over the last few seconds; 0 until measurable. */
  readonly rate: number;
  /** Seconds left at the measured rate; null while the rate is unknown. */
  readonly eta: number | null;
}

export const PROGRESS_INTERVAL_MS = 250;
const WINDOW_MS = 3000;

export class ProgressMeter {
  readonly #emit: (e: ProgressEvent) => void;
  readonly #now: () => number;
  readonly #jobId: string;
  readonly #deviceId: string;
  #stage: Stage = 'preflight';
  #done = 0;
  #total = 0;
  #lastEmit = Number.NEGATIVE_INFINITY;
  #samples: { t: number; bytes: number }[] = [];
  #emittedFinal = false;

  constructor(jobId: string, deviceId: string, emit: (e: ProgressEvent) => void, now = () => Date.now()) {
    this.#jobId = jobId;
    this.#deviceId = deviceId;
    this.#emit = emit;
    this.#now = now;
  }

  /** Start a stage with a byte total (0 for stages without bytes); emits immediately. */
  begin(stage: Stage, bytesTotal: number, bytesDone = 0): void {
    this.#stage = stage;
    this.#total = bytesTotal;
    this.#done = Math.min(bytesDone, bytesTotal);
    this.#samples = [{ t: this.#now(), bytes: this.#done }];
    this.#emittedFinal = false;
    this.#send(true);
  }

  /** Add bytes moved in the current stage. */
  add(n: number): void {
    this.set(this.#done + n);
  }

  /** Set absolute bytes done; lower values than already reported are ignored (never backwards). */
  set(bytesDone: number): void {
    const v = Math.min(bytesDone, this.#total);
    if (v <= this.#done && !(v === this.#total && !this.#emittedFinal)) return;
    this.#done = Math.max(this.#done, v);
    const t = this.#now();
    this.#samples.push({ t, bytes: this.#done });
    while (this.#samples.length > 2 && t - this.#samples[0]!.t > WINDOW_MS) this.#samples.shift();
    this.#send(this.#done === this.#total);
  }

  get bytesDone(): number {
    return this.#done;
  }

  rate(): number {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last || last.t <= first.t) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.t - first.t);
  }

  #send(force: boolean): void {
    const t = this.#now();
    if (!force && t - this.#lastEmit < PROGRESS_INTERVAL_MS) return;
    if (this.#done === this.#total) this.#emittedFinal = true;
    this.#lastEmit = t;
    const rate = this.rate();
    const left = this.#total - this.#done;
    this.#emit({
      jobId: this.#jobId,
      deviceId: this.#deviceId,
      stage: this.#stage,
      bytesDone: this.#done,
      bytesTotal: this.#total,
      rate: Math.round(rate),
      eta: left === 0 ? 0 : rate > 0 ? Math.ceil(left / rate) : null,
    });
  }
}
