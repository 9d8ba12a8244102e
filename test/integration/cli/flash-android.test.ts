/**
 * Issue #19's "done when", as a technician types it: `flashline flash PKG --device adb:H:PA --device
 * tcp:H:PF` against a stock-android virtual phone that starts in Android. Both ids are one phone (its
 * fastboot port does not listen while it runs Android, so it joins the only unit that answered): one job,
 * exit 0 with the postcheck's confirmation; with `--bad-boot b` the job ends 42 and the phone stays on a.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { startDemoRig } from '../../../main/cli/commands/demo.js';
import { ReportStore } from '../../../main/flash/report-store.js';
import { SMALL_PACKAGE, tempDir } from '../flash/helpers.js';
import { describeRun, runFlashline } from './child.js';

const trustDir = fileURLToPath(new URL('../../../resources/keys', import.meta.url));
const tmp = tempDir('flashline-cli-android-');
after(tmp.cleanup);

async function flashPhone(name: string, badBoot: boolean, command: 'flash' | 'line' = 'flash') {
  const rig = await startDemoRig({
    devices: 0,
    phones: 1,
    dir: join(tmp.dir, name),
    pkg: SMALL_PACKAGE,
    device: { android: { bootCompletedMs: 50, markSuccessfulMs: 100 } },
    ...(badBoot ? { faults: () => ({ badBoot: ['b'] }) } : {}),
  });
  const home = join(tmp.dir, name, 'home');
  try {
    const phone = rig.devices[0]!;
    assert.ok(phone.adbAddress, 'the stock phone serves ADB');
    const ids = ['--device', phone.adbAddress, '--device', phone.address];
    const line = ['--no-usb', '--no-list-serial', '--count', '1'];
    const run = await runFlashline(
      [command, rig.packagePath, ...ids, '--trust', trustDir, ...(command === 'line' ? line : [])],
      { env: { FLASHLINE_HOME: home } },
    );
    const reports = await ReportStore.forHome(home).list();
    return { run, reports, phone, ids: [phone.adbAddress, phone.address] };
  } finally {
    await rig.stop();
  }
}

describe('flashline flash onto a phone in Android through its ADB and fastboot ids', () => {
  it('one phone, one job: ends 0 on the new slot, the report says how the postcheck confirmed it', async () => {
    const { run, reports, phone, ids } = await flashPhone('good', false);
    assert.equal(run.code, 0, describeRun(run));
    assert.match(
      run.stdout,
      new RegExp(`One device \\(serial ${phone.serial}\\) through ${ids.join(' and ')}`),
    );
    assert.equal(reports.length, 1, 'one job for the two ids');
    assert.equal(reports[0]!.device.slotAfter, 'b');
    assert.match(reports[0]!.postcheck ?? '', /Android booted/);
    assert.equal(phone.device.bootControl.active, 'b');
  });

  it('--bad-boot b: ends 42 with the phone back on slot a', async () => {
    const { run, phone } = await flashPhone('bad', true);
    assert.equal(run.code, 42, describeRun(run));
    assert.equal(phone.device.bootControl.active, 'a');
  });

  it('line: the phone found running Android is flashed once, through the unit it forms with its fastboot port', async () => {
    const { run, reports, phone } = await flashPhone('line', false, 'line');
    assert.equal(run.code, 0, describeRun(run));
    assert.equal(reports.length, 1);
    assert.equal(reports[0]!.status, 0);
    assert.equal(phone.device.bootControl.active, 'b');
  });
});
