/**
 * A line killed mid-job (kill -9: power cut of the station PC) leaves a journal without end; the next
 * `flashline line` resumes that job when the unit is ready again — same job, written pieces not sent again.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { makeDemoPackage } from '../../../main/cli/commands/demo.js';
import { listInterrupted } from '../../../main/flash/journal.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import { after as deviceAfter, SMALL_PACKAGE, tempDir } from '../flash/helpers.js';
import { freePorts, spawnFlashline, startUnit } from './helpers.js';

const tmp = tempDir('flashline-line-resume-');
after(tmp.cleanup);

describe('flashline line after a crash', () => {
  it('resumes the interrupted job of a unit that comes back', { timeout: 120_000 }, async () => {
    const home = join(tmp.dir, 'home');
    const pkg = await makeDemoPackage(join(tmp.dir, 'resume.flp'), SMALL_PACKAGE);
    const [port] = await freePorts(1);
    const unit = await startUnit(tmp.dir, port!, 'RES001', { rateBytesPerSecond: 2 * 1024 * 1024 });
    const args = [
      'line',
      pkg,
      '--device',
      `tcp:127.0.0.1:${port}`,
      '--count',
      '1',
      '--poll',
      '150',
      '--no-usb',
      '--no-list-serial',
      '--json',
    ];
    try {
      const first = spawnFlashline(args, home);
      first.onLine((text) => {
        const e = JSON.parse(text) as {
          type: string;
          stage?: string;
          bytesDone?: number;
          bytesTotal?: number;
        };
        if (e.type === 'progress' && e.stage === 'download' && (e.bytesDone ?? 0) > (e.bytesTotal ?? 1) / 2)
          first.child.kill('SIGKILL');
      });
      assert.equal(await first.exit, null, 'killed');
      const [left] = await listInterrupted(join(home, 'journal'));
      assert.ok(left, 'the killed job is interrupted');

      const second = spawnFlashline(args, home);
      assert.equal(await second.exit, 0, second.stderr());
      const started = second.lines.map((l) => JSON.parse(l) as { type: string; resumed?: boolean });
      assert.deepEqual(
        started.filter((e) => e.type === 'job-started').map((e) => e.resumed),
        [true],
      );
      const reports = await ReportStore.forHome(home).list();
      assert.equal(reports.length, 1);
      assert.equal(reports[0]?.jobId, left.start.jobId, 'the same job was finished');
      assert.ok((reports[0]?.bytesWritten ?? 0) < SMALL_PACKAGE.bootSize + SMALL_PACKAGE.systemSize);
      assert.equal((await listInterrupted(join(home, 'journal'))).length, 0);
      assert.equal(deviceAfter(unit).running, '2.0.0');
    } finally {
      await unit.stop();
    }
  });
});
