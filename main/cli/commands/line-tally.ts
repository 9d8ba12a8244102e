/**
 * What `flashline line` counts and shows: one row per port (the device id a unit was plugged into) with
 * the unit's serial, stage, percent, MB/s and result; the latest result per unit (by serial); units per
 * hour from real completions in a sliding window; and the exit code (0 when every unit passed, otherwise
 * the most frequent failure code).
 */
import { statusInfo } from '../../common/status-codes.js';
import type { JobEvent } from '../../flash/events.js';

export interface PortRow {
  readonly port: string;
  serial: string;
  stage: string;
  percent: number;
  /** Bytes per second, as measured by the engine (0 when unknown). */
  rate: number;
  result: string;
}

/** Units per hour are measured over the completions of the last quarter hour. */
export const RATE_WINDOW_MS = 15 * 60_000;

export class LineTally {
  readonly ports = new Map<string, PortRow>();
  /** serial -> status code of its latest job. */
  readonly units = new Map<string, number>();
  readonly #jobs = new Map<string, { port: string; serial: string }>();
  readonly #completions: number[] = [];
  #firstStart: number | undefined;
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  get active(): number {
    return this.#jobs.size;
  }

  /** Units with a final result. */
  get finished(): number {
    return this.units.size;
  }

  started(port: string, serial: string, jobId: string, resumed: boolean): void {
    this.#firstStart ??= this.#now();
    this.#jobs.set(jobId, { port, serial });
    this.ports.set(port, {
      port,
      serial,
      stage: resumed ? 'resuming' : 'queued',
      percent: 0,
      rate: 0,
      result: '',
    });
  }

  skipped(port: string, serial: string | undefined, reason: string): void {
    const row = this.ports.get(port);
    const base = row && row.serial === serial ? row : undefined;
    this.ports.set(port, {
      port,
      serial: serial ?? '-',
      stage: base?.stage ?? '-',
      percent: base?.percent ?? 0,
      rate: 0,
      result: `skipped: ${reason}`,
    });
  }

  event(e: JobEvent): void {
    const job = this.#jobs.get(e.jobId);
    const row = job && this.ports.get(job.port);
    if (!job || !row) return;
    if (e.type === 'stage') {
      row.stage = e.stage;
      row.percent = 0;
    } else if (e.type === 'progress') {
      row.stage = e.stage;
      row.percent = e.bytesTotal > 0 ? Math.min(100, (100 * e.bytesDone) / e.bytesTotal) : 100;
      if (e.stage === 'download') row.rate = e.rate;
    } else if (e.type === 'end') {
      this.#jobs.delete(e.jobId);
      const serial = e.report.device.serial ?? job.serial;
      row.serial = serial;
      row.stage = e.status === 0 ? 'done' : 'failed';
      row.percent = e.status === 0 ? 100 : row.percent;
      row.rate = e.report.rate;
      row.result = e.status === 0 ? 'PASS' : `FAIL ${e.status} ${e.report.statusName}`;
      this.units.set(serial, e.status);
      this.#completions.push(this.#now());
    }
  }

  /** Completions in the window divided by the time the line has been working within it; null until one. */
  unitsPerHour(): number | null {
    const now = this.#now();
    while (this.#completions.length > 0 && this.#completions[0]! < now - RATE_WINDOW_MS)
      this.#completions.shift();
    if (this.#firstStart === undefined || this.#completions.length === 0) return null;
    const span = now - Math.max(this.#firstStart, now - RATE_WINDOW_MS);
    return span > 0 ? (this.#completions.length * 3_600_000) / span : null;
  }

  /** status code -> number of units whose latest job ended with it. */
  codes(): Map<number, number> {
    const m = new Map<number, number>();
    for (const code of this.units.values()) m.set(code, (m.get(code) ?? 0) + 1);
    return new Map([...m.entries()].sort((a, b) => a[0] - b[0]));
  }

  /** 0 when every unit passed; otherwise the most frequent failure code (the lower one on a tie). */
  exitCode(): number {
    let best = 0;
    let bestCount = 0;
    for (const [code, count] of this.codes()) {
      if (code !== 0 && count > bestCount) {
        best = code;
        bestCount = count;
      }
    }
    return best;
  }

  summaryLine(): string {
    const passed = this.codes().get(0) ?? 0;
    const perCode = [...this.codes()].map(([code, n]) => `${code} ${statusInfo(code).name}: ${n}`).join(', ');
    const uph = this.unitsPerHour();
    return (
      `line: ${this.finished} unit(s), ${passed} passed, ${this.finished - passed} failed` +
      `${perCode ? ` (by code: ${perCode})` : ''}` +
      `${uph === null ? '' : `, ${uph.toFixed(0)} units/hour`}; exit code ${this.exitCode()}`
    );
  }
}
