/**
 * `flashline rescue PKG` end to end, as a child process against the qualcomm-edl virtual device over real
 * TCP and a real pty: make-rescue-dir → pack --from-qualcomm-dir → rescue → the device is back in fastboot
 * (same serial) → `flashline flash` ends 0. Refusals are checked on the device side: a programmer signed for
 * another OEM key is refused (27) with no programmer byte sent; a tampered package is refused (28) before
 * the device sees a connection; a NAK mid-program ends 31 with the device's log in the report.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { makeDemoPackage } from '../../../main/cli/demo-package.js';
import { RESCUE_STAGES, rescueReportSchema } from '../../../main/flash/rescue/index.js';
import { describeRun, runFlashline } from '../cli/child.js';
import { startVirtualDeviceCli } from '../virtual-device/cli-helpers.js';
import { tempDir } from './edl-helpers.js';
import { homeEnv, packCli, packRescue, startRescuableDevice } from './rescue-helpers.js';

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('flashline rescue PACKAGE (EDL → fastboot)', () => {
  let dir: string;
  let env: Record<string, string>;
  let ufsPkg: string;
  let firmware: string;

  before(async () => {
    dir = await tempDir();
    env = homeEnv(dir);
    const made = await runFlashline(['virtual-device', 'make-rescue-dir', '--out', join(dir, 'ufs')]);
    assert.equal(made.code, 0, describeRun(made));
    const packed = await packCli(join(dir, 'ufs'), join(dir, 'ufs.flp'), env);
    assert.equal(packed.code, 0, describeRun(packed));
    ufsPkg = join(dir, 'ufs.flp');
    firmware = await makeDemoPackage(join(dir, 'fw.flp'), { bootSize: 1 << 20, systemSize: 1 << 20 });
  });
  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('over TCP: rescues, backs up byte-identically, comes back in fastboot, then flashes 0', async () => {
    const device = await startRescuableDevice({ storage: 'ufs' });
    const edl = device.address!;
    try {
      const boot = device.storage.partitions.find((p) => p.label === 'boot')!;
      const ss = device.storage.sectorSize;
      const before = await device.storage.read(boot.firstLba * ss, (boot.lastLba - boot.firstLba + 1) * ss);
      const r = await runFlashline(
        ['rescue', ufsPkg, '--device', edl, '--backup', 'boot', '--backup-dir', join(dir, 'bk'), '--json'],
        { env },
      );
      assert.equal(r.code, 0, describeRun(r));
      const report = rescueReportSchema.parse(JSON.parse(r.stdout));
      assert.equal(report.status, 0);
      assert.equal(report.cameBackAs, edl.replace(/^edl:/, 'tcp:'));
      assert.equal(report.identity.serial, device.serialNumber.toString(16).padStart(8, '0'));
      assert.ok(
        report.deviceLog.some((l) => /Set bootable drive/.test(l)),
        report.deviceLog.join('\n'),
      );
      assert.deepEqual(
        report.stages.map((s) => s.stage),
        [...RESCUE_STAGES],
      );
      const saved = await fs.readFile(join(dir, 'bk', 'boot.img'));
      assert.ok(saved.equals(before), 'the backup differs from the partition');
      assert.equal(report.backups[0]!.sha256, createHash('sha256').update(before).digest('hex'));
      assert.equal(device.mode, 'booted');
      const flashed = await runFlashline(['flash', firmware, '--device', report.cameBackAs!], { env });
      assert.equal(flashed.code, 0, describeRun(flashed));
    } finally {
      await device.stop();
    }
  });

  it('over a pty, device from the CLI: EDL on the pty, fastboot comes back on --tcp, then flashes 0', async (t) => {
    const port = await freePort();
    const made = await runFlashline([
      'virtual-device',
      'make-rescue-dir',
      '--out',
      join(dir, 'emmc'),
      '--storage',
      'emmc',
    ]);
    assert.equal(made.code, 0, describeRun(made));
    const pkg = await packRescue(join(dir, 'emmc'), join(dir, 'emmc.flp'));
    const { child, rows } = await startVirtualDeviceCli<{
      pty: string;
      fastbootAfterRescue: string;
      serial: string;
    }>(t, [
      '--profile',
      'qualcomm-edl',
      '--storage',
      'emmc',
      '--pty',
      '--tcp',
      `127.0.0.1:${port}`,
      '--json',
    ]);
    const row = rows[0]!;
    assert.equal(row.fastbootAfterRescue, `tcp:127.0.0.1:${port}`);
    const r = await runFlashline(
      ['rescue', pkg, '--device', `serial:${row.pty}`, '--come-back', row.fastbootAfterRescue],
      {
        env,
      },
    );
    assert.equal(r.code, 0, describeRun(r));
    assert.match(r.stdout, new RegExp(`serial ${row.serial}, product flashline-virtual`));
    assert.match(r.stderr, /^program \S+: [\d.]+\/[\d.]+ MB {2}[\d.]+ MB\/s/m);
    const flashed = await runFlashline(['flash', firmware, '--device', row.fastbootAfterRescue], { env });
    assert.equal(flashed.code, 0, describeRun(flashed));
    child.kill('SIGINT');
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 0);
  });

  it('refuses a package for another MSM HW id (27) before the programmer is sent', async () => {
    const pkg = await packRescue(join(dir, 'ufs'), join(dir, 'msm.flp'), { msmHwIds: ['0000000000000001'] });
    const device = await startRescuableDevice({ storage: 'ufs' });
    try {
      const r = await runFlashline(['rescue', pkg, '--device', device.address!], { env });
      assert.equal(r.code, 27, describeRun(r));
      assert.match(r.stdout, /MSM HW id 0000000000000001; the device reports 000a50e100000000/);
      assert.equal(device.programmerBytesReceived, 0);
    } finally {
      await device.stop();
    }
  });

  it('refuses a programmer signed for another OEM key (27) before a programmer byte is sent', async () => {
    const other = createHash('sha256').update('another OEM').digest('hex');
    const made = await runFlashline([
      'virtual-device',
      'make-rescue-dir',
      '--out',
      join(dir, 'other'),
      '--oem-pk-hash',
      other,
    ]);
    assert.equal(made.code, 0, describeRun(made));
    const pkg = await packRescue(join(dir, 'other'), join(dir, 'other.flp'));
    const device = await startRescuableDevice({ storage: 'ufs' });
    try {
      const r = await runFlashline(['rescue', pkg, '--device', device.address!], { env });
      assert.equal(r.code, 27, describeRun(r));
      assert.match(r.stdout, /programmer was not sent: it is signed for OEM key/);
      assert.equal(device.programmerBytesReceived, 0);
      assert.equal(device.mode, 'sahara');
    } finally {
      await device.stop();
    }
  });

  it('refuses a tampered package (28) before the device sees a connection', async () => {
    const bytes = await fs.readFile(ufsPkg);
    const at = bytes.indexOf(Buffer.from('ANDROID!'));
    assert.ok(at > 0);
    bytes[at + 5000] = bytes[at + 5000]! ^ 0xff; // inside boot.img, past its header
    const tampered = join(dir, 'tampered.flp');
    await fs.writeFile(tampered, bytes);
    const device = await startRescuableDevice({ storage: 'ufs' });
    try {
      const r = await runFlashline(['rescue', tampered, '--device', device.address!], { env });
      assert.equal(r.code, 28, describeRun(r));
      assert.deepEqual(device.history, []);
      assert.equal(device.programmerBytesReceived, 0);
    } finally {
      await device.stop();
    }
  });

  it('ends 31 with the device log when the device NAKs mid-program', async () => {
    const device = await startRescuableDevice({ storage: 'ufs' });
    const system = device.storage.partitions.find((p) => p.label === 'system')!;
    await device.stop();
    const nak = await startRescuableDevice({
      storage: 'ufs',
      faults: { nakAtSector: system.firstLba + 100 },
    });
    try {
      const r = await runFlashline(['rescue', ufsPkg, '--device', nak.address!, '--json'], { env });
      assert.equal(r.code, 31, describeRun(r));
      const report = rescueReportSchema.parse(JSON.parse(r.stdout));
      assert.equal(report.statusName, 'write_refused');
      assert.ok(
        report.deviceLog.includes(`ERROR: write failed at sector ${system.firstLba + 100}`),
        report.deviceLog.join('\n'),
      );
      assert.equal(report.stages.at(-1)!.stage, 'program');
    } finally {
      await nak.stop();
    }
  });
});
