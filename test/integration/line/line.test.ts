/**
 * `flashline line` as a factory runs it: the line starts first, 8 units (virtual devices over real TCP)
 * are plugged in afterwards one by one; one loses power in the middle of its download, one that already
 * passed is unplugged and plugged in again. Every unit is flashed exactly once to 0, the re-plugged one is
 * skipped with a reason, the summary is printed and the process exits by itself after `--count 8`.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { makeDemoPackage } from '../../../main/cli/commands/demo.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import type { VirtualDeviceHandle } from '../../../virtual-device/index.js';
import { after as deviceAfter, SMALL_PACKAGE, tempDir } from '../flash/helpers.js';
import { freePorts, spawnFlashline, startUnit } from './helpers.js';

const tmp = tempDir('flashline-line-');
after(tmp.cleanup);

interface LineEvent {
  type: string;
  deviceId?: string;
  serial?: string;
  stage?: string;
  bytesDone?: number;
  bytesTotal?: number;
  status?: number;
  reason?: string;
  units?: number;
  passed?: number;
  codes?: Record<string, number>;
  exitCode?: number;
}

describe('flashline line', () => {
  it('flashes 8 units plugged in after it started, each exactly once, and exits by itself', {
    timeout: 180_000,
  }, async () => {
    const home = join(tmp.dir, 'home');
    const pkg = await makeDemoPackage(join(tmp.dir, 'line.flp'), SMALL_PACKAGE);
    const ports = await freePorts(8);
    const serial = (i: number) => `LINE${String(i).padStart(3, '0')}`;
    const line = spawnFlashline(
      [
        'line',
        pkg,
        ...ports.flatMap((p) => ['--device', `tcp:127.0.0.1:${p}`]),
        '--count',
        '8',
        '--concurrency',
        '8',
        '--poll',
        '150',
        '--no-usb',
        '--no-list-serial',
        '--json',
      ],
      home,
    );
    const units = new Map<number, VirtualDeviceHandle>();
    const events: LineEvent[] = [];
    let powerCut: Promise<void> | undefined;
    let replugged: Promise<void> | undefined;
    const skippedReplug = new Promise<void>((resolve) =>
      line.onLine((text) => {
        const e = JSON.parse(text) as LineEvent;
        events.push(e);
        const i = ports.findIndex((p) => e.deviceId === `tcp:127.0.0.1:${p}`);
        // Unit 1 loses power halfway through its download; the job reconnects and continues.
        if (
          i === 1 &&
          !powerCut &&
          e.type === 'progress' &&
          e.stage === 'download' &&
          (e.bytesDone ?? 0) > (e.bytesTotal ?? 1) / 2
        )
          powerCut = units.get(1)!.powerCut();
        // Unit 0 passes, is unplugged, and plugged in again while the line runs.
        if (i === 0 && !replugged && e.type === 'end' && e.status === 0) {
          replugged = (async () => {
            await units.get(0)!.stop();
            await sleep(600);
            units.set(0, await startUnit(tmp.dir, ports[0]!, serial(0)));
          })();
        }
        if (i === 0 && e.type === 'skipped') resolve();
      }),
    );
    try {
      for (let i = 0; i < 7; i++) {
        await sleep(150);
        // A paced link (like USB 2 at its slowest) so downloads last long enough to be interrupted.
        units.set(i, await startUnit(tmp.dir, ports[i]!, serial(i), { rateBytesPerSecond: 3 * 1024 * 1024 }));
      }
      // The last unit arrives only after the re-plugged one was seen and skipped.
      await skippedReplug;
      units.set(7, await startUnit(tmp.dir, ports[7]!, serial(7)));
      const code = await line.exit;
      await powerCut;
      await replugged;
      assert.equal(code, 0, `${line.stderr()}\n${line.lines.slice(-20).join('\n')}`);

      const started = events.filter((e) => e.type === 'job-started');
      assert.deepEqual(started.map((e) => e.serial).sort(), [0, 1, 2, 3, 4, 5, 6, 7].map(serial));
      const skipped = events.filter((e) => e.type === 'skipped');
      assert.ok(skipped.some((e) => e.serial === serial(0) && /already passed/.test(e.reason ?? '')));
      const summary = events.find((e) => e.type === 'summary');
      assert.deepEqual(
        {
          units: summary?.units,
          passed: summary?.passed,
          codes: summary?.codes,
          exitCode: summary?.exitCode,
        },
        { units: 8, passed: 8, codes: { 0: 8 }, exitCode: 0 },
      );
      const reports = await ReportStore.forHome(home).list();
      assert.equal(reports.length, 8, 'one job per unit');
      assert.ok(reports.every((r) => r.status === 0));
      assert.equal(new Set(reports.map((r) => r.device.serial)).size, 8);
      const cut = reports.find((r) => r.device.serial === serial(1));
      assert.ok((cut?.resumes ?? 0) >= 1, 'the unit that lost power was reconnected and continued');
      for (const u of units.values()) assert.equal(deviceAfter(u).running, '2.0.0');
    } finally {
      if (line.child.exitCode === null) line.child.kill('SIGKILL');
      await Promise.all([...units.values()].map((u) => u.stop().catch(() => undefined)));
    }
  });

  it('ends by itself after --idle-exit with nothing to do, and refuses more than 16 at once', async () => {
    const home = join(tmp.dir, 'home-idle');
    const pkg = await makeDemoPackage(join(tmp.dir, 'idle.flp'), SMALL_PACKAGE);
    const [port] = await freePorts(1);
    const idle = spawnFlashline(
      [
        'line',
        pkg,
        '--device',
        `tcp:127.0.0.1:${port}`,
        '--idle-exit',
        '0.5',
        '--no-usb',
        '--no-list-serial',
        '--json',
      ],
      home,
    );
    assert.equal(await idle.exit, 0, idle.stderr());
    const summary = JSON.parse(idle.lines.at(-1) ?? '{}') as LineEvent;
    assert.deepEqual(
      { type: summary.type, reason: summary.reason, units: summary.units },
      {
        type: 'summary',
        reason: 'idle',
        units: 0,
      },
    );
    const tooMany = spawnFlashline(['line', pkg, '--concurrency', '17'], home);
    assert.equal(await tooMany.exit, 2);
    assert.match(tooMany.stderr(), /above 16/);
  });
});
