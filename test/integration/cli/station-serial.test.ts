/**
 * The station entry point flashes a serial device end to end: `flashline station` as a child process, a job
 * started through its API on a virtual device served on a pty; the job passes postcheck (the device is found
 * again on the same port after its reboot), and SIGTERM then stops the station, which exits by itself.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { startDemoRig } from '../../../main/cli/commands/demo.js';
import type { JobSummary } from '../../../main/flash/manager.js';
import { SMALL_PACKAGE, tempDir } from '../flash/helpers.js';
import { describeRun, LEAK_EXIT_CODE } from './child.js';
import { driveStation } from './station-child.js';

const tmp = tempDir('flashline-station-serial-');
after(tmp.cleanup);

describe('flashline station over a serial port', () => {
  it('flashes a pty device through the API (postcheck included), then stops on SIGTERM', async () => {
    const rig = await startDemoRig({
      devices: 1,
      dir: join(tmp.dir, 'rig'),
      pkg: SMALL_PACKAGE,
      device: { pty: true, tcp: false },
    });
    const deviceId = `serial:${rig.devices[0]!.ptyPath}`;
    let finished: JobSummary | undefined;
    try {
      const { run, problem } = await driveStation(
        ['--no-usb', '--no-serial'],
        { env: { FLASHLINE_HOME: join(tmp.dir, 'home') } },
        async (station) => {
          const { jobIds } = await station.client.jobs.start.mutate({
            packagePath: rig.packagePath,
            deviceIds: [deviceId],
          });
          for (let i = 0; i < 600 && !finished; i++) {
            const job = (await station.client.jobs.list.query()).find((j) => j.jobId === jobIds[0]);
            if (job?.state === 'done' || job?.state === 'failed') finished = job;
            else await new Promise((r) => setTimeout(r, 200));
          }
        },
      );
      assert.equal(problem, undefined);
      assert.equal(finished?.status, 0, `the serial job ended ${JSON.stringify(finished)}`);
      assert.ok(!run.killed, `the station did not end by itself: ${describeRun(run)}`);
      assert.notEqual(run.code, LEAK_EXIT_CODE, describeRun(run));
      assert.equal(run.code, 0, describeRun(run));
      assert.equal(rig.devices[0]!.device.bootControl.active, 'b', 'the update is committed on slot b');
    } finally {
      await rig.stop();
    }
  });
});
