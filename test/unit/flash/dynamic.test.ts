/**
 * Issue #13 in the engine, against in-memory fakes: a package with logical images and a super layout moves
 * the device from its bootloader into fastbootd (as the capability record says), applies the layout,
 * sizes and writes the target slot's logical partitions, and keeps today's guarantees — refusals before
 * anything is written (super layout, super space, device requirements), resume in fastbootd, rollback.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { detectCapabilities } from '../../../main/devices/capabilities.js';
import type { EngineOptions } from '../../../main/flash/context.js';
import { runJob } from '../../../main/flash/job.js';
import { readJournal } from '../../../main/flash/journal.js';
import { DeviceLinkError, type FlashPackage } from '../../../main/flash/ports.js';
import { meetsRequirement } from '../../../main/flash/requirements.js';
import { sizeLogicalImages } from '../../../main/flash/super-sizing.js';
import { encodeSuperEmpty, newSuperMetadata } from '../../../main/protocol/fastboot/super/index.js';
import { bootImage, FakeConnector, FakeDevice, fastEngineOptions, memoryPackage } from './fake-device.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-dynamic-'));
after(() => rmSync(home, { recursive: true, force: true }));

const KiB = 1024;
const MiB = 1024 * KiB;
const SUPER = 8 * MiB;
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const boot = bootImage('2.0', 64 * KiB);
const system = bootImage('system-2.0', 512 * KiB);
const vendor = bootImage('vendor-2.0', 256 * KiB);

/** A super_empty.img as AOSP builds it for A/B: one group per slot, every partition listed empty. */
function layout(size = SUPER): Buffer {
  const md = newSuperMetadata({
    size,
    alignment: 4096,
    metadataMaxSize: 4096,
    groups: [
      { name: 'main_a', maximumSize: size / 2 - MiB },
      { name: 'main_b', maximumSize: size / 2 - MiB },
    ],
    partitions: ['a', 'b'].flatMap((s) => [
      { name: `system_${s}`, group: `main_${s}`, size: 0 },
      { name: `vendor_${s}`, group: `main_${s}`, size: 0 },
    ]),
  });
  return Buffer.from(encodeSuperEmpty(md));
}

function pkg(extra: Partial<FlashPackage> = {}, superLayout = layout(), big?: Buffer): FlashPackage {
  return memoryPackage(
    [
      { partition: 'boot', data: boot },
      { partition: 'system', data: big ?? system, kind: 'logical' },
      { partition: 'vendor', data: vendor, kind: 'logical' },
      { partition: 'super_empty', data: superLayout, kind: 'super-layout', slotted: false },
    ],
    extra,
  );
}

const systemA = bootImage('system-1.0', 384 * KiB);

function dynamicDevice(setup?: (d: FakeDevice) => void): FakeDevice {
  const d = new FakeDevice('SER1');
  d.partitions.delete('system_a');
  d.partitions.delete('system_b');
  d.enableDynamic(SUPER, { system_a: systemA.length, vendor_a: 128 * KiB });
  const a = d.partitions.get('system_a')!;
  systemA.copy(a.data);
  a.length = systemA.length;
  setup?.(d);
  return d;
}

function options(extra: Partial<EngineOptions> = {}): EngineOptions {
  return fastEngineOptions(join(home, 'journal'), extra);
}

async function run(device: FakeDevice, p = pkg(), opts = options()) {
  const connector = new FakeConnector();
  connector.devices.set('fake:1', device);
  const report = await runJob({ deviceId: 'fake:1', pkg: p, connector, options: opts, emit: () => {} });
  return report;
}

const untouched = (d: FakeDevice) => {
  assert.equal(d.flashCount, 0, 'nothing written');
  assert.equal(d.superUpdates, 0, 'no update-super');
  assert.equal(d.active, 'a');
  assert.ok(!d.log.some((l) => l.startsWith('reboot-to:') || l.startsWith('set_active')), d.log.join(' '));
};

describe('capabilities: dynamic partitions', () => {
  it('a bootloader listing super-partition-name has dynamic partitions, its super size and a way into fastbootd', () => {
    const vars = new Map([
      ['super-partition-name', 'super'],
      ['partition-size:super', '0x800000'],
      ['slot-count', '2'],
      ['current-slot', 'a'],
    ]);
    const caps = detectCapabilities({ mode: 'fastboot', vars });
    assert.deepEqual(caps.dynamicPartitions, { superPartition: 'super', superSize: SUPER, logical: [] });
    assert.deepEqual(caps.reboot.fastbootd, { via: 'fastboot', target: 'fastboot' });
  });

  it('fastbootd lists its logical partitions; a device without super has none and no way into fastbootd', () => {
    const caps = detectCapabilities({
      mode: 'fastbootd',
      vars: new Map([
        ['is-userspace', 'yes'],
        ['super-partition-name', 'super'],
        ['is-logical:system_a', 'yes'],
        ['is-logical:boot_a', 'no'],
      ]),
    });
    assert.deepEqual(caps.dynamicPartitions?.logical, ['system_a']);
    assert.ok(caps.unavailable.some((u) => u.startsWith('super partition size not reported')));
    const plain = detectCapabilities({ mode: 'fastboot', vars: new Map([['slot-count', '2']]) });
    assert.equal(plain.dynamicPartitions, undefined);
    assert.equal(plain.reboot.fastbootd, undefined);
    assert.ok(!plain.unavailable.some((u) => u.includes('super')), 'said only for dynamic devices');
  });

  it('Android saying it has dynamic partitions is enough (the bootloader may not list super)', () => {
    const props = new Map([
      ['ro.boot.dynamic_partitions', 'true'],
      ['ro.serialno', 'X'],
    ]);
    const caps = detectCapabilities({ mode: 'fastboot', vars: new Map([['slot-count', '2']]), props });
    assert.equal(caps.dynamicPartitions?.superPartition, 'super');
    assert.ok(caps.reboot.fastbootd);
  });
});

describe('engine: fastbootd and dynamic partitions', () => {
  it('writes physical images in the bootloader, logical ones in fastbootd, and ends 0 on the new slot', async () => {
    const d = dynamicDevice();
    const report = await run(d, pkg({ deviceRequirements: { 'version-bootloader': ['1.*', '2.*'] } }));
    assert.equal(report.status, 0, report.message);
    assert.equal(d.active, 'b');
    assert.equal(d.sha('boot_b'), sha256(boot));
    assert.equal(d.sha('system_b'), sha256(system), 'system_b holds the image (device-side hash)');
    assert.equal(d.sha('vendor_b'), sha256(vendor));
    assert.ok(d.logical.has('system_b') && d.logical.has('vendor_b'), 'created as logical partitions');
    assert.equal(d.partitions.get('system_b')!.size, system.length, 'sized to the image');
    assert.equal(d.sha('system_a'), sha256(systemA), 'the working slot keeps its system');
    assert.equal(d.superUpdates, 1);
    const at = (prefix: string) => d.log.findIndex((l) => l.startsWith(prefix));
    assert.ok(at('flash:boot_b') < at('set_active:b'), 'physical images first, in the bootloader');
    assert.ok(at('set_active:b') < at('reboot-to:fastbootd'), 'target slot current before fastbootd');
    assert.ok(at('reboot-to:fastbootd') < at('update-super:super'));
    assert.ok(at('update-super:super') < at('create:system_b'));
    assert.ok(at('create:system_b') < at('flash:system_b'));
    assert.equal(report.deviceVerification, 'ok');
    assert.equal(report.device.versionAfter, '2.0');
  });

  it('resizes an existing target partition instead of creating it', async () => {
    const d = dynamicDevice((dev) => dev.addLogical('system_b', 64 * KiB));
    const report = await run(d);
    assert.equal(report.status, 0, report.message);
    assert.ok(d.log.includes(`resize:system_b:${system.length}`), d.log.join(' '));
    assert.equal(d.sha('system_b'), sha256(system));
  });

  it('refuses a super layout larger than the device super with 27 before anything is written', async () => {
    const d = dynamicDevice();
    const report = await run(d, pkg({}, layout(SUPER * 2)));
    assert.equal(report.status, 27, report.message);
    assert.match(
      report.message,
      /super layout is for a super partition of 16777216 bytes.*holds only 8388608/,
    );
    untouched(d);
  });

  it('refuses logical images that do not fit the super with 13 before anything is written', async () => {
    const d = dynamicDevice();
    const report = await run(d, pkg({}, layout(), bootImage('huge', 4 * MiB)));
    assert.equal(report.status, 13, report.message);
    assert.match(report.message, /logical images of slot b need/);
    untouched(d);
  });

  it('refuses a package whose requirements the device does not meet (27), and a device without super (27)', async () => {
    const d = dynamicDevice();
    const r1 = await run(d, pkg({ deviceRequirements: { 'version-bootloader': ['1.*'] } }));
    assert.equal(r1.status, 27, r1.message);
    assert.match(r1.message, /requires version-bootloader to be one of 1\.\*, but this device reports 2\.0/);
    untouched(d);
    const d2 = dynamicDevice();
    const r2 = await run(d2, pkg({ deviceRequirements: { 'version-baseband': ['g123'] } }));
    assert.equal(r2.status, 27);
    assert.match(r2.message, /does not report version-baseband/);
    const plain = new FakeDevice('SER1');
    const r3 = await run(plain);
    assert.equal(r3.status, 27, r3.message);
    assert.match(r3.message, /reports none/);
    untouched(plain);
  });

  it('a refused logical step rolls the device back to its working slot', async () => {
    const d = dynamicDevice();
    const original = d.logicalCommand.bind(d);
    // A device FAIL on create: 13 with the device's words, and the working slot active again.
    d.logicalCommand = (cmd, name, size) => {
      if (cmd === 'create' && name === 'vendor_b')
        throw new DeviceLinkError('device-fail', 'FAIL', 'Not enough space to resize partition');
      original(cmd, name, size);
    };
    const report = await run(d);
    assert.equal(report.status, 13, report.message);
    assert.match(report.message, /refused size vendor_b: Not enough space/);
    assert.equal(d.active, 'a', 'rolled back to the working slot');
    assert.equal(d.sha('system_a'), sha256(systemA));
  });

  it('a cable pull in fastbootd resumes: the job reaches fastbootd again and does not repeat update-super', async () => {
    const d = dynamicDevice();
    // Past boot (64 KiB) and into system's pieces: the link drops and stays down for this run.
    d.faults.dropAtByte = 64 * KiB + 300 * KiB;
    d.faults.offlineAttempts = 50;
    const opts = options({ retry: { attempts: 1, baseDelayMs: 1, maxDelayMs: 2 } });
    const first = await run(d, pkg(), opts);
    assert.equal(first.status, 11, first.message);
    // The device stayed unreachable, so the rollback could not run: it is on the target slot (its own
    // fallback protects it), which the resumed job accepts because the journal says it made it active.
    assert.equal(d.active, 'b');
    const journalPath = join(home, 'journal', `${first.jobId}.jsonl`);
    const state = await readJournal(journalPath);
    assert.ok(state?.logical.has('super'), 'update-super journaled');
    assert.equal(state?.mode, 'fastbootd');
    // Power comes back; the phone starts in its bootloader.
    d.faults.offlineAttempts = 0;
    d.drop();
    d.userspace = false;
    const writesBefore = d.flashCount;
    const connector = new FakeConnector();
    connector.devices.set('fake:1', d);
    // The journal of a finished job has an end record; resume from its state without it.
    const resumed = await runJob({
      deviceId: 'fake:1',
      pkg: pkg(),
      connector,
      options: opts,
      emit: () => {},
      resume: { ...state!, end: undefined },
    });
    assert.equal(resumed.status, 0, resumed.message);
    assert.equal(d.superUpdates, 1, 'update-super not repeated');
    assert.equal(d.sha('system_b'), sha256(system));
    assert.equal(d.sha('vendor_b'), sha256(vendor));
    assert.equal(d.active, 'b');
    assert.ok(d.flashCount - writesBefore < 12, 'boot_b was not written again');
    assert.ok(!d.log.slice(d.log.lastIndexOf('getvar:all')).includes('flash:boot_b'));
  });
});

describe('engine: resuming before update-super', () => {
  it('a job rolled back after set_active goes through the bootloader again so fastbootd runs from the target slot', async () => {
    const d = dynamicDevice();
    d.noFastbootd = true;
    const first = await run(d);
    assert.equal(first.status, 27, first.message);
    assert.match(first.message, /refused to reboot into fastbootd/);
    assert.equal(d.active, 'a', 'rolled back to the working slot');
    assert.equal(d.superUpdates, 0);
    const state = await readJournal(join(home, 'journal', `${first.jobId}.jsonl`));
    assert.ok(state?.logical.has('begin') && !state.logical.has('super'));
    d.noFastbootd = false;
    const connector = new FakeConnector();
    connector.devices.set('fake:1', d);
    const mark = d.log.length;
    const resumed = await runJob({
      deviceId: 'fake:1',
      pkg: pkg(),
      connector,
      options: options(),
      emit: () => {},
      resume: { ...state!, end: undefined },
    });
    assert.equal(resumed.status, 0, resumed.message);
    const log = d.log.slice(mark);
    const at = (prefix: string) => log.findIndex((l) => l.startsWith(prefix));
    assert.ok(at('set_active:b') >= 0 && at('set_active:b') < at('update-super:super'), log.join(' '));
    assert.ok(!log.includes('flash:boot_b'), 'physical images not written again');
    assert.equal(d.sha('system_a'), sha256(systemA), 'the working slot kept its system');
    assert.equal(d.sha('system_b'), sha256(system));
    assert.equal(d.active, 'b');
  });
});

describe('pure parts', () => {
  it('requirements match exactly or by prefix, case-insensitively', () => {
    assert.ok(meetsRequirement('G7-1.2', ['g7-1.2']));
    assert.ok(meetsRequirement('g7-1.2', ['g7*']));
    assert.ok(!meetsRequirement('g8-1.2', ['g7*', 'g9']));
  });

  it('sizes the target slot next to the working one with the codec, naming what does not fit', () => {
    const md = newSuperMetadata({
      size: SUPER,
      alignment: 4096,
      metadataMaxSize: 4096,
      groups: [
        { name: 'main_a', maximumSize: 3 * MiB },
        { name: 'main_b', maximumSize: 3 * MiB },
      ],
      partitions: [
        { name: 'system_a', group: 'main_a', size: 0 },
        { name: 'system_b', group: 'main_b', size: 0 },
      ],
    });
    const device = { superName: 'super', superSize: SUPER };
    const slots = { target: 'b', old: 'a' };
    const ok = sizeLogicalImages(
      md,
      device,
      [{ name: 'system_a', size: 2 * MiB }],
      [{ name: 'system_b', size: 2 * MiB }],
      slots,
    );
    assert.ok(ok.partitions.some((p) => p.name === 'system_b'));
    assert.throws(
      () => sizeLogicalImages(md, device, [], [{ name: 'system_b', size: 4 * MiB }], slots),
      (e: Error & { code?: number }) => e.code === 13,
    );
    assert.throws(
      () => sizeLogicalImages(md, { superName: 'super', superSize: SUPER / 2 }, [], [], slots),
      (e: Error & { code?: number }) => e.code === 27,
    );
  });
});
