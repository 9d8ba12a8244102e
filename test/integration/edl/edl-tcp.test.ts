/**
 * EDL over a real TCP socket against the qualcomm-edl virtual device: Sahara identify (v2 and v3, with the
 * HELLO retry), the programmer signer check on both sides, Firehose configure with a counter-offer, program →
 * getsha256digest → read back, a NAK mid-program with the device's log, and a programmer that already runs.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { FirehoseClient, FirehoseNakError, startEdlSession } from '../../../main/protocol/firehose/index.js';
import {
  ProgrammerRefusedError,
  SaharaClient,
  SaharaStatusError,
} from '../../../main/protocol/sahara/index.js';
import { DisconnectedError, openStreamLink, type StreamLink } from '../../../main/transport/index.js';
import { EdlDeviceHandle } from '../../../virtual-device/edl/edl-device.js';
import { chunks, programAndVerify, tempDir, writeProgrammer } from './edl-helpers.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('EDL over TCP (qualcomm-edl virtual device)', () => {
  let dir: string;
  const devices: EdlDeviceHandle[] = [];
  const links: StreamLink[] = [];
  const start = async (opts: Parameters<typeof EdlDeviceHandle.start>[0] = {}) => {
    const d = await EdlDeviceHandle.start(opts);
    devices.push(d);
    return d;
  };
  const connect = async (d: EdlDeviceHandle) => {
    const link = await openStreamLink(d.address!);
    links.push(link);
    return link;
  };

  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await Promise.all(links.map((l) => l.close()));
    await Promise.all(devices.map((d) => d.stop()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('identifies a v2 device in command mode (serial, MSM HW id, OEM PK hash)', async () => {
    const d = await start({ serialNumber: 0x1234abcd });
    const id = await new SaharaClient(await connect(d)).identify();
    assert.equal(id.version, 2);
    assert.equal(id.serialNumber, 0x1234abcd);
    assert.equal(id.oemPkHash, hex(d.oemPkHash));
    assert.match(id.msmHwId ?? '', /^[0-9a-f]{16}$/);
  });

  it('identifies a v3 device with READ_CHIP_ID_V3, and answers a swallowed HELLO', async () => {
    const d = await start({ saharaVersion: 3, faults: { swallowHello: true } });
    const sahara = new SaharaClient(await connect(d), { helloTimeoutMs: 300 });
    const id = await sahara.identify();
    // The swallowed HELLO hid the version; the refused MSM HW id led to READ_CHIP_ID_V3.
    assert.deepEqual(id.refused, [{ clientCommand: 2, status: 0x1f }]);
    assert.deepEqual(id.chipId, { msmId: 0x000a50e1, oemId: 0x51, modelId: 1 });
    assert.equal(id.oemPkHash, hex(d.oemPkHash));
    // A v3 ROM asks with READ_DATA64.
    await sahara.uploadProgrammer(await writeProgrammer(dir, d.oemPkHash, 'v3.elf'), {
      expectedOemPkHash: id.oemPkHash!,
    });
    // The ROM hands over right after DONE_RESP; give the device's own bookkeeping a moment.
    for (let i = 0; i < 200 && d.mode !== 'firehose'; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(d.mode, 'firehose');
  });

  it('refuses a programmer signed for another OEM key before sending it', async () => {
    const d = await start();
    const wrong = await writeProgrammer(
      dir,
      createHash('sha256').update('another OEM').digest(),
      'wrong.elf',
    );
    const sahara = new SaharaClient(await connect(d));
    const id = await sahara.identify();
    await assert.rejects(
      sahara.uploadProgrammer(wrong, { expectedOemPkHash: id.oemPkHash! }),
      (e: unknown) => e instanceof ProgrammerRefusedError && e.code === 'programmer_refused',
    );
    // Nothing was asked of the device: it still waits in Sahara, and the right programmer then loads.
    assert.equal(d.mode, 'sahara');
    await sahara.uploadProgrammer(await writeProgrammer(dir, d.oemPkHash), {
      expectedOemPkHash: id.oemPkHash!,
    });
  });

  it('reports the boot ROM refusing a wrongly signed programmer (status 0x25)', async () => {
    const d = await start();
    const wrong = await writeProgrammer(dir, randomBytes(32), 'wrong2.elf');
    await assert.rejects(
      new SaharaClient(await connect(d)).uploadProgrammer(wrong),
      (e: unknown) => e instanceof SaharaStatusError && e.status === 0x25,
    );
  });

  it('uploads, configures with the device counter-offer, programs, hashes and reads back', async () => {
    const d = await start({ storage: 'ufs', maxPayload: 64 * 1024 });
    const programmer = await writeProgrammer(dir, d.oemPkHash);
    const s = await startEdlSession(await connect(d), { programmer });
    assert.equal(s.config.storage, 'ufs');
    assert.equal(s.config.sectorSize, 4096);
    assert.equal(s.config.maxPayloadToTarget, 64 * 1024);
    const boot = d.storage.partitions.find((p) => p.label === 'boot')!;
    const image = randomBytes(300_001); // not a sector multiple: the last sector is padded
    const progress = await programAndVerify(s.firehose, 4096, boot.firstLba, image, 'boot');
    assert.equal(progress.at(-1), image.byteLength);
    // NUM_DISK_SECTORS-N. addresses count from the end of the disk.
    const tail = randomBytes(4096);
    await s.firehose.program(
      { sectorSize: 4096, physicalPartition: 0, startSector: 'NUM_DISK_SECTORS-20.', numSectors: 1 },
      4096,
      chunks(tail),
    );
    assert.ok((await d.storage.read((d.storage.totalSectors - 20) * 4096, 4096)).equals(tail));
    const info = await s.firehose.storageInfo(0);
    assert.equal(info.info?.block_size, 4096);
    await s.firehose.setBootableStorageDrive(1);
    assert.equal(d.state.bootableDrive, 1);
    await s.firehose.reset();
  });

  it('ends a program NAKed mid-way with a typed error carrying the device log', async () => {
    const d = await start({ storage: 'emmc', faults: { nakAtSector: 0x900 } });
    const s = await startEdlSession(await connect(d), {
      programmer: await writeProgrammer(dir, d.oemPkHash),
    });
    assert.equal(s.config.storage, 'emmc');
    assert.equal(s.config.sectorSize, 512);
    const image = randomBytes(2 * 1024 * 1024);
    const err = await s.firehose
      .program(
        { sectorSize: 512, physicalPartition: 0, startSector: 0x800, numSectors: 4096 },
        image.byteLength,
        chunks(image),
      )
      .then(
        () => null,
        (e: unknown) => e,
      );
    assert.ok(err instanceof FirehoseNakError, String(err));
    assert.ok(
      err.deviceLog.some((l) => l.includes('write failed at sector 2304')),
      err.deviceLog.join(' | '),
    );
    // The session stays usable after a NAK.
    await s.firehose.nop();
  });

  it('surfaces a link dropped mid-program as DisconnectedError, not a hang', async () => {
    const d = await start({ faults: { dropAtByte: 200_000 } });
    const s = await startEdlSession(await connect(d), {
      programmer: await writeProgrammer(dir, d.oemPkHash),
    });
    const image = randomBytes(1024 * 1024);
    await assert.rejects(
      s.firehose.program(
        { sectorSize: 4096, physicalPartition: 0, startSector: 200, numSectors: 256 },
        image.byteLength,
        chunks(image),
      ),
      (e: unknown) => e instanceof DisconnectedError,
    );
  });

  it('goes straight to Firehose when the programmer already runs', async () => {
    const d = await start();
    const first = await startEdlSession(await connect(d), {
      programmer: await writeProgrammer(dir, d.oemPkHash),
    });
    await first.firehose.link.close();
    // Wait for the device to notice the hang-up before connecting again (one host at a time).
    for (let i = 0; i < 500 && !d.history.includes('firehose: hangup'); i++)
      await new Promise((r) => setTimeout(r, 10));
    const again = await startEdlSession(await connect(d), { helloTimeoutMs: 200 });
    assert.equal(again.identity, undefined);
    assert.equal(again.config.sectorSize, 4096);
    assert.ok(again.firehose instanceof FirehoseClient);
  });
});
