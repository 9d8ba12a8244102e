/** `flashline line`'s counting: rows per port, latest result per unit, units/hour, exit code, summary. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LineTally, RATE_WINDOW_MS } from '../../../main/cli/commands/line-tally.js';
import { tableLines } from '../../../main/cli/commands/line-view.js';
import type { JobEvent } from '../../../main/flash/events.js';
import type { JobReport } from '../../../main/flash/report.js';

function end(jobId: string, deviceId: string, serial: string, status: number): JobEvent {
  const report = {
    device: { serial },
    status,
    statusName: status === 0 ? 'ok' : 'device_timeout',
    rate: 2e6,
  } as unknown as JobReport;
  return { type: 'end', jobId, deviceId, status, report };
}

describe('line tally', () => {
  it('keeps one row per port and the latest result per unit', () => {
    let now = 1_000_000;
    const t = new LineTally(() => now);
    t.started('tcp:a', 'S1', 'j1', false);
    t.started('tcp:b', 'S2', 'j2', true);
    assert.equal(t.active, 2);
    assert.equal(t.unitsPerHour(), null, 'no completion yet');
    t.event({
      type: 'progress',
      jobId: 'j1',
      deviceId: 'tcp:a',
      stage: 'download',
      bytesDone: 50,
      bytesTotal: 200,
      rate: 3e6,
      eta: 1,
    });
    assert.deepEqual(
      { stage: t.ports.get('tcp:a')?.stage, pct: t.ports.get('tcp:a')?.percent },
      { stage: 'download', pct: 25 },
    );
    now += 60_000;
    t.event(end('j1', 'tcp:a', 'S1', 0));
    t.event(end('j2', 'tcp:b', 'S2', 12));
    assert.equal(t.ports.get('tcp:b')?.result, 'FAIL 12 device_timeout');
    // Two units in the one minute the line has worked: 120 an hour.
    assert.equal(t.unitsPerHour(), 120);
    // The failed unit comes back and passes: its latest result counts, once.
    t.started('tcp:b', 'S2', 'j3', false);
    now += 60_000;
    t.event(end('j3', 'tcp:b', 'S2', 0));
    assert.equal(t.finished, 2);
    assert.equal(t.exitCode(), 0);
    assert.match(
      t.summaryLine(),
      /^line: 2 unit\(s\), 2 passed, 0 failed \(by code: 0 ok: 2\), 90 units\/hour; exit code 0$/,
    );
    // Completions older than the window no longer count.
    now += RATE_WINDOW_MS + 1;
    assert.equal(t.unitsPerHour(), null);
    const lines = tableLines(t, 120);
    assert.match(lines[0] ?? '', /^port\s+serial\s+stage\s+%\s+MB\/s\s+result$/);
    assert.match(lines[1] ?? '', /^tcp:a\s+S1\s+done\s+100\s+2\.0\s+PASS$/);
    assert.match(lines.at(-1) ?? '', /units 2 {2}passed 2 {2}failed 0 {2}active 0/);
  });

  it('exits with the most frequent failure code', () => {
    const t = new LineTally();
    const codes = [0, 41, 12, 41, 12, 41, 0];
    codes.forEach((c, i) => {
      t.started(`p${i}`, `S${i}`, `j${i}`, false);
      t.event(end(`j${i}`, `p${i}`, `S${i}`, c));
    });
    assert.equal(t.exitCode(), 41);
    assert.deepEqual(Object.fromEntries(t.codes()), { 0: 2, 12: 2, 41: 3 });
    assert.match(
      t.summaryLine(),
      /7 unit\(s\), 2 passed, 5 failed .*12 device_timeout: 2, 41 \w+: 3.*exit code 41$/,
    );
  });
});
