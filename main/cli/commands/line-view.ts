/**
 * How `flashline line` shows itself: a live table on a terminal (one row per port, then the totals,
 * redrawn in place ~4 times a second), one JSON line per event with `--json`, or plain lines otherwise
 * (a log file, a pipe). Redrawing uses Node's own readline cursor functions: a full-screen TUI library
 * would be more than one table needs.
 */
import { clearScreenDown, moveCursor } from 'node:readline';
import type { DeviceInfo } from '../../devices/device-info.js';
import type { JobEvent } from '../../flash/events.js';
import type { LineTally } from './line-tally.js';

export interface LineView {
  /** A job event (after the tally has taken it). */
  job(e: JobEvent): void;
  device(kind: 'ready' | 'gone', device: DeviceInfo): void;
  started(device: DeviceInfo, jobId: string, resumed: boolean): void;
  skipped(device: DeviceInfo, reason: string): void;
  note(text: string): void;
  /** Draw the final state and the summary; stop any timer. */
  close(summary: Record<string, unknown>, line: string): void;
}

export function jsonView(out: NodeJS.WritableStream): LineView {
  const write = (v: unknown) => out.write(`${JSON.stringify(v)}\n`);
  return {
    job: (e) => {
      if (e.type !== 'end') return write(e);
      const r = e.report;
      write({
        ...e,
        report: undefined,
        reportSummary: { serial: r.device.serial, status: r.status, statusName: r.statusName, rate: r.rate },
      });
    },
    device: (kind, d) => write({ type: `device-${kind}`, deviceId: d.id, serial: d.serial, note: d.note }),
    started: (d, jobId, resumed) =>
      write({ type: 'job-started', deviceId: d.id, serial: d.serial, jobId, resumed }),
    skipped: (d, reason) => write({ type: 'skipped', deviceId: d.id, serial: d.serial, reason }),
    note: (text) => write({ type: 'note', text }),
    close: (summary) => write({ type: 'summary', ...summary }),
  };
}

export function plainView(out: NodeJS.WritableStream): LineView {
  return {
    job: (e) => {
      if (e.type === 'stage') out.write(`${e.deviceId}: ${e.stage}\n`);
      else if (e.type === 'message') out.write(`${e.deviceId}: ${e.text}\n`);
      else if (e.type === 'end') {
        const r = e.report;
        out.write(
          `${e.deviceId}: ${r.device.serial ?? '?'} ${e.status === 0 ? 'PASS' : `FAIL ${e.status} ${r.statusName}: ${r.message}`}\n`,
        );
        if (e.error) out.write(`${e.deviceId}: what to do: ${e.error.remedy}\n`);
      }
    },
    device: (kind, d) =>
      out.write(
        `${d.id}: ${kind === 'ready' ? `ready (${d.serial})` : `gone${d.note ? ` (${d.note})` : ''}`}\n`,
      ),
    started: (d, _jobId, resumed) => out.write(`${d.id}: ${resumed ? 'resuming' : 'flashing'} ${d.serial}\n`),
    skipped: (d, reason) => out.write(`${d.id}: skipped: ${reason}\n`),
    note: (text) => out.write(`note: ${text}\n`),
    close: (_summary, line) => out.write(`${line}\n`),
  };
}

const mbps = (rate: number) => (rate > 0 ? (rate / 1e6).toFixed(1) : '-');

export function tableLines(tally: LineTally, width: number): string[] {
  const head = ['port', 'serial', 'stage', '%', 'MB/s', 'result'];
  const rows = [...tally.ports.values()]
    .sort((a, b) => a.port.localeCompare(b.port))
    .map((r) => [r.port, r.serial, r.stage, r.percent.toFixed(0), mbps(r.rate), r.result]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (i < 5 ? r[i]!.length : 0))));
  const fmt = (cells: string[]) =>
    cells
      .map((c, i) => (i < 5 ? (i === 3 || i === 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)) : c))
      .join('  ')
      .slice(0, Math.max(20, width - 1));
  const passed = tally.codes().get(0) ?? 0;
  const uph = tally.unitsPerHour();
  return [
    fmt(head),
    ...rows.map(fmt),
    `units ${tally.finished}  passed ${passed}  failed ${tally.finished - passed}  active ${tally.active}  ` +
      `units/hour ${uph === null ? '-' : uph.toFixed(0)}`,
  ];
}

export function ttyView(out: NodeJS.WriteStream, tally: LineTally): LineView {
  let drawn = 0;
  const notes: string[] = [];
  const draw = () => {
    if (drawn > 0) moveCursor(out, 0, -drawn);
    clearScreenDown(out);
    for (const n of notes.splice(0)) out.write(`${n}\n`);
    const lines = tableLines(tally, out.columns || 120);
    out.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  const timer = setInterval(draw, 250);
  timer.unref();
  return {
    job: () => undefined,
    device: (kind, d) => {
      if (kind === 'gone' && d.note) notes.push(`${d.id}: gone (${d.note})`);
    },
    started: () => undefined,
    skipped: () => undefined,
    note: (text) => notes.push(`note: ${text}`),
    close: (_summary, line) => {
      clearInterval(timer);
      draw();
      out.write(`${line}\n`);
    },
  };
}
