/**
 * EDL over a real pty pair (socat), as over a Windows QDLoader COM port or a Linux ttyUSB: identify, upload,
 * configure, program and read back byte-identical through the serial transport.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startEdlSession } from '../../../main/protocol/firehose/index.js';
import { openStreamLink, type StreamLink } from '../../../main/transport/index.js';
import { EdlDeviceHandle } from '../../../virtual-device/edl/edl-device.js';
import { programAndVerify, tempDir, writeProgrammer } from './edl-helpers.js';

describe('EDL over a pty (qualcomm-edl virtual device, serial transport)', () => {
  let dir: string;
  let device: EdlDeviceHandle;
  let link: StreamLink | undefined;

  before(async () => {
    dir = await tempDir();
    device = await EdlDeviceHandle.start({ storage: 'emmc', tcp: false, pty: true });
  });
  after(async () => {
    await link?.close();
    await device.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('identifies, uploads, programs and reads back over serial:PATH', async () => {
    assert.ok(device.ptyPath);
    link = await openStreamLink(`serial:${device.ptyPath}`);
    const s = await startEdlSession(link, {
      programmer: await writeProgrammer(dir, device.oemPkHash),
      storage: 'emmc',
    });
    assert.equal(s.identity?.oemPkHash, Buffer.from(device.oemPkHash).toString('hex'));
    assert.equal(s.config.sectorSize, 512);
    const system = device.storage.partitions.find((p) => p.label === 'system')!;
    await programAndVerify(s.firehose, 512, system.firstLba, randomBytes(1024 * 1024 + 100), 'system');
  });
});
