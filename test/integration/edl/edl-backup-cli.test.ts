/**
 * `flashline backup` as a child process against the qualcomm-edl virtual device over TCP: the partition
 * comes back byte-identical (and no handle is left open: the child checks its own exit); a programmer signed
 * for another OEM key ends 27 (not for this device) before it is sent.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { EdlDeviceHandle } from '../../../virtual-device/edl/edl-device.js';
import { describeRun, runFlashline } from '../cli/child.js';
import { tempDir, writeProgrammer } from './edl-helpers.js';

describe('flashline backup (EDL over TCP)', () => {
  let dir: string;
  let device: EdlDeviceHandle;

  before(async () => {
    dir = await tempDir();
    device = await EdlDeviceHandle.start({ storage: 'ufs' });
  });
  after(async () => {
    await device.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('refuses a programmer signed for another OEM key with 27', async () => {
    const wrong = await writeProgrammer(dir, createHash('sha256').update('other').digest(), 'wrong.elf');
    const r = await runFlashline([
      'backup',
      '--device',
      device.address!,
      '--programmer',
      wrong,
      '--partition',
      'boot',
      '--out',
      join(dir, 'x.img'),
    ]);
    assert.equal(r.code, 27, describeRun(r));
    assert.match(r.stderr, /programmer was not sent/);
    assert.equal(device.mode, 'sahara');
  });

  it('reads a partition back byte-identical', async () => {
    const boot = device.storage.partitions.find((p) => p.label === 'boot')!;
    const size = (boot.lastLba - boot.firstLba + 1) * 4096;
    const content = randomBytes(size);
    await device.storage.write(boot.firstLba * 4096, content);
    const out = join(dir, 'boot.img');
    const r = await runFlashline([
      'backup',
      '--device',
      device.address!,
      '--programmer',
      await writeProgrammer(dir, device.oemPkHash),
      '--partition',
      'boot',
      '--out',
      out,
    ]);
    assert.equal(r.code, 0, describeRun(r));
    assert.ok((await fs.readFile(out)).equals(content));
  });
});
