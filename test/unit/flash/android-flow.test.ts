import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { UNAVAILABLE } from '../../../main/devices/capabilities.js';
import { FLASHLINE_STOPPING } from '../../../main/flash/context.js';
import type { JobEvent } from '../../../main/flash/events.js';
import { runJob } from '../../../main/flash/job.js';
import { listInterrupted, readJournal } from '../../../main/flash/journal.js';
import { bootImage, type FakeFaults, fastEngineOptions, memoryPackage } from './fake-device.js';
import { FakePhone, FakePhoneConnector } from './fake-phone.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-android-'));
after(() => rmSync(home, { recursive: true, force: true }));

const pkg = () =>
  memoryPackage([
    { partition: 'boot', data: bootImage('2.0', 64 * 1024) },
    { partition: 'system', data: bootImage('sys', 256 * 1024) },
  ]);

async function run(
  faults: FakeFaults = {},
  setup?: (p: FakePhone) => void,
  endpoints: readonly string[] = ['adb:phone', 'tcp:phone'],
) {
  const connector = new FakePhoneConnector();
  const phone = new FakePhone('PHONE1', faults);
  setup?.(phone);
  connector.devices.set('adb:phone', phone);
  connector.devices.set('tcp:phone', phone);
  const events: JobEvent[] = [];
  const report = await runJob({
    deviceId: endpoints[0]!,
    endpoints,
    pkg: pkg(),
    connector,
    options: fastEngineOptions(join(home, 'journal')),
    emit: (e) => events.push(e),
  });
  return { report, phone, events };
}

describe('flash engine: a stock phone found in Android', () => {
  it('identifies it over ADB, flashes in fastboot, confirms the Android boot and the device’s commit', async () => {
    const { report, phone } = await run({}, (p) => {
      p.bootDelayReads = 2;
    });
    assert.equal(report.status, 0, report.message);
    assert.equal(phone.active, 'b');
    assert.equal(phone.mode, 'android', 'the phone ends up running Android');
    assert.equal(report.device.mode, 'android');
    assert.equal(report.device.serial, 'PHONE1');
    assert.equal(report.device.profile, 'android-generic');
    assert.equal(report.device.slotAfter, 'b');
    assert.equal(report.device.versionAfter, '2.0');
    assert.match(
      report.postcheck ?? '',
      /Android booted .* slot b, running 2\.0; the device marked slot b successful/,
    );
    assert.ok(
      report.unchecked?.includes(UNAVAILABLE.rollbackIndex),
      'says the rollback index was not checked',
    );
    assert.ok(report.unchecked?.includes(UNAVAILABLE.deviceHash));
    assert.equal(report.deviceVerification, 'not-available');
    assert.ok(!phone.log.some((l) => l.startsWith('oem:')), 'no vendor command sent to a stock phone');
    assert.ok(phone.log.includes('adb:reboot:bootloader'));
  });

  it('a bad boot of the new slot ends 42 with the phone on its old slot', async () => {
    const { report, phone } = await run({ badBoot: 'b' });
    assert.equal(report.status, 42, report.message);
    assert.equal(phone.active, 'a');
    assert.equal(phone.mode, 'android');
    assert.equal(report.device.slotAfter, 'a');
  });

  it('a wrong version ends 43 and rolls back through the bootloader', async () => {
    const { report, phone } = await run({ versionAfterBoot: '3.0' });
    assert.equal(report.status, 43, report.message);
    assert.equal(phone.active, 'a', 'rolled back to the working slot');
    assert.ok(
      report.messages.some((m) => /rolled back: slot a/.test(m)),
      report.messages.join('\n'),
    );
  });

  it('an unauthorized phone ends 15 with the ADB remedy', async () => {
    const { report, phone } = await run({}, (p) => {
      p.unauthorized = true;
    });
    assert.equal(report.status, 15, report.message);
    assert.match(report.remedy, /Allow USB debugging/);
    assert.equal(phone.mode, 'android', 'never rebooted');
  });

  it('a phone that comes back refusing this station ends 41 with the ADB remedy', async () => {
    const { report } = await run({}, (p) => {
      p.revokeOnBoot = true;
    });
    assert.equal(report.status, 41, report.message);
    assert.match(report.remedy, /Allow USB debugging/);
  });

  it('a phone known only by its fastboot endpoint ends 41 after it boots Android, saying to name its ADB endpoint', async () => {
    const { report, phone } = await run(
      {},
      (p) => {
        p.mode = 'fastboot';
      },
      ['tcp:phone'],
    );
    assert.equal(report.status, 41, report.message);
    assert.equal(phone.mode, 'android', 'the update booted; only the job could not see it');
    assert.match(report.message, /knows the phone only as tcp:phone.*--device adb:HOST:PORT/);
  });

  it('a phone reachable only over ADB says to give its fastboot endpoint', async () => {
    const { report, phone } = await run({}, undefined, ['adb:phone']);
    assert.equal(report.status, 15, report.message);
    assert.match(report.message, /did not answer in fastboot.*--device tcp:/);
    assert.equal(phone.mode, 'fastboot');
  });

  it('refuses another product before rebooting the phone', async () => {
    const { report, phone } = await run({}, (p) => p.vars.set('product', 'other-phone'));
    assert.equal(report.status, 27, report.message);
    assert.equal(phone.mode, 'android');
  });

  it('journals every endpoint of the unit', async () => {
    const connector = new FakePhoneConnector();
    const phone = new FakePhone('PHONE2', { hang: ['flash:'] });
    connector.devices.set('adb:p2', phone);
    connector.devices.set('tcp:p2', phone);
    const controller = new AbortController();
    const journalDir = join(home, 'journal-endpoints');
    const job = runJob({
      deviceId: 'adb:p2',
      endpoints: ['adb:p2', 'tcp:p2'],
      pkg: pkg(),
      connector,
      options: fastEngineOptions(journalDir),
      signal: controller.signal,
      emit: (e) => {
        if (e.type === 'stage' && e.stage === 'download') controller.abort();
      },
    });
    const report = await job;
    assert.equal(report.status, 18);
    const { readdirSync } = await import('node:fs');
    const file = readdirSync(journalDir).find((f) => f.startsWith(report.jobId));
    const state = await readJournal(join(journalDir, file!));
    assert.deepEqual(state?.start.endpoints, ['adb:p2', 'tcp:p2']);
  });

  it('a job stopped mid-download resumes at the endpoints it journaled, the phone now in fastboot', async () => {
    const connector = new FakePhoneConnector();
    const phone = new FakePhone('PHONE3', { hang: ['flash:system_b'] });
    connector.devices.set('adb:p3', phone);
    connector.devices.set('tcp:p3', phone);
    const journalDir = join(home, 'journal-resume');
    const controller = new AbortController();
    const first = await runJob({
      deviceId: 'adb:p3',
      endpoints: ['adb:p3', 'tcp:p3'],
      pkg: pkg(),
      connector,
      options: fastEngineOptions(journalDir),
      signal: controller.signal,
      emit: (e) => {
        if (e.type === 'progress' && e.stage === 'download' && e.bytesDone > 64 * 1024)
          controller.abort(FLASHLINE_STOPPING);
      },
    });
    assert.equal(first.status, 18, `${first.message} ${first.messages.join(' | ')}`);
    assert.equal(phone.mode, 'fastboot', 'stopped in the bootloader');
    const [state] = await listInterrupted(journalDir);
    assert.ok(state, 'the job is interrupted, not ended');
    phone.faults.hang = [];
    // Resumed by id only: the journal brings back the ADB endpoint too, and the record is detected again.
    const second = await runJob({
      deviceId: 'adb:p3',
      pkg: pkg(),
      connector,
      options: fastEngineOptions(journalDir),
      emit: () => undefined,
      resume: state,
    });
    assert.equal(second.status, 0, second.message);
    assert.equal(second.jobId, first.jobId);
    assert.equal(phone.active, 'b');
    assert.match(second.postcheck ?? '', /marked slot b successful/);
  });
});
