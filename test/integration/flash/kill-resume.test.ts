/**
 * `kill -9` of Flashline mid-job: the journal shows the job as interrupted, and the next
 * `flashline flash` of the same package on the same device resumes it (written pieces are not sent again).
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDemoRig } from '../../../main/cli/commands/demo.js';
import { listInterrupted } from '../../../main/flash/journal.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import { after as deviceAfter, SMALL_PACKAGE, tempDir } from './helpers.js';

const bin = fileURLToPath(new URL('../../../bin/flashline.js', import.meta.url));
const tmp = tempDir('flashline-kill-');
after(tmp.cleanup);

function flashline(args: string[], home: string) {
  return spawn(process.execPath, [bin, ...args], {
    env: { ...process.env, FLASHLINE_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

describe('kill -9 mid-job, restart, resume', () => {
  it('resumes the interrupted job and completes it', async () => {
    const home = join(tmp.dir, 'home');
    // Paced link so the job is still downloading when it is killed.
    const rig = await startDemoRig({
      devices: 1,
      dir: join(tmp.dir, 'rig'),
      pkg: SMALL_PACKAGE,
      device: { maxDownloadSize: 512 * 1024 },
      faults: () => ({ rateBytesPerSecond: 2 * 1024 * 1024 }),
    });
    try {
      const device = rig.devices[0]!;
      const child = flashline(['flash', rig.packagePath, '--device', device.address, '--json'], home);
      const killed = new Promise<void>((resolve, reject) => {
        const lines = createInterface({ input: child.stdout });
        lines.on('line', (line) => {
          const e = JSON.parse(line) as {
            type: string;
            stage?: string;
            bytesDone?: number;
            bytesTotal?: number;
          };
          if (
            e.type === 'progress' &&
            e.stage === 'download' &&
            (e.bytesDone ?? 0) > (e.bytesTotal ?? 0) / 2
          ) {
            child.kill('SIGKILL');
          }
        });
        child.on('exit', (code, signal) =>
          signal === 'SIGKILL' ? resolve() : reject(new Error(`exited ${code}`)),
        );
      });
      await killed;
      const interrupted = await listInterrupted(join(home, 'journal'));
      assert.equal(interrupted.length, 1);
      const written = [...interrupted[0]!.pieces.values()].reduce((a, s) => a + s.size, 0);
      assert.ok(written >= 1, 'some pieces were journaled before the kill');

      const again = flashline(['flash', rig.packagePath, '--device', device.address, '--json'], home);
      let stderr = '';
      again.stderr.on('data', (d: Buffer) => {
        stderr += d.toString();
      });
      const code = await new Promise<number | null>((resolve) => again.on('exit', (c) => resolve(c)));
      assert.equal(code, 0, stderr);
      const reports = await ReportStore.forHome(home).list();
      const final = reports.at(-1)!;
      assert.equal(final.jobId, interrupted[0]!.start.jobId, 'the same job was resumed');
      assert.ok(final.resumes >= 1);
      const total = SMALL_PACKAGE.bootSize + SMALL_PACKAGE.systemSize;
      assert.ok(final.bytesWritten < total, `resumed run sent ${final.bytesWritten} of ${total} bytes`);
      assert.equal((await listInterrupted(join(home, 'journal'))).length, 0);
      assert.equal(deviceAfter(device).running, '2.0.0');
    } finally {
      await rig.stop();
    }
  });
});
