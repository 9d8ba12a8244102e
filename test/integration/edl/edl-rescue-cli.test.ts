/**
 * `flashline pack --from-qualcomm-dir` + `flashline rescue` as child processes over a real pty: a
 * vendor-style folder (rawprogram0.xml with a NUM_DISK_SECTORS-relative entry, patch0.xml with
 * device-evaluated expressions) is packed, programmed, patched, the bootable drive set and the device reset;
 * it does not boot (random images), so the rescue ends 41. secdata, missing files and bad XML are refused
 * when packing (21).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { EdlDeviceHandle } from '../../../virtual-device/edl/edl-device.js';
import { describeRun, runFlashline } from '../cli/child.js';
import { tempDir, writeProgrammer } from './edl-helpers.js';
import { homeEnv, packCli } from './rescue-helpers.js';

describe('flashline rescue (EDL over a pty)', () => {
  let dir: string;
  let device: EdlDeviceHandle;

  before(async () => {
    dir = await tempDir();
    device = await EdlDeviceHandle.start({ storage: 'emmc', tcp: false, pty: true });
  });
  after(async () => {
    await device.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  const part = (label: string) => device.storage.partitions.find((p) => p.label === label)!;

  const pack = (folder: string) =>
    packCli(folder, join(folder, '..', `${folder.split('/').at(-1)}.flp`), homeEnv(dir));

  it('pack refuses secdata, a missing file and bad XML (21), writing nothing', async () => {
    const cases: [string, Record<string, string>, RegExp][] = [
      [
        'secdata',
        {
          'sec.dat': 'x',
          'rawprogram0.xml':
            '<?xml version="1.0" ?><data><program SECTOR_SIZE_IN_BYTES="512" filename="sec.dat" label="secdata" num_partition_sectors="1" physical_partition_number="0" start_sector="100"/></data>',
        },
        /secdata.*--allow-secdata/,
      ],
      [
        'missing',
        {
          'rawprogram0.xml':
            '<?xml version="1.0" ?><data><program SECTOR_SIZE_IN_BYTES="512" filename="boot.img" label="boot" num_partition_sectors="8" physical_partition_number="0" start_sector="100"/></data>',
        },
        /lacks boot\.img/,
      ],
      [
        'badxml',
        { 'rawprogram0.xml': '<?xml version="1.0" ?><data><program label="boot"' },
        /rawprogram0\.xml/,
      ],
    ];
    for (const [name, files, why] of cases) {
      const folder = join(dir, name);
      await fs.mkdir(folder);
      await writeProgrammer(folder, device.oemPkHash);
      for (const [f, text] of Object.entries(files)) await fs.writeFile(join(folder, f), text);
      const r = await pack(folder);
      assert.equal(r.code, 21, `${name}: ${describeRun(r)}`);
      assert.match(r.stderr, why, name);
      await assert.rejects(fs.access(join(dir, `${name}.flp`)), `${name}: a package was written`);
    }
  });

  it('programs, patches, sets the bootable drive and resets; a disk that does not boot ends 41', async () => {
    const folder = join(dir, 'rescue');
    await fs.mkdir(folder);
    const xbl = randomBytes(10_000);
    const boot = randomBytes(700_000);
    const tail = randomBytes(512);
    await fs.writeFile(join(folder, 'xbl.elf'), xbl);
    await fs.writeFile(join(folder, 'boot.img'), boot);
    await fs.writeFile(join(folder, 'tail.bin'), tail);
    await writeProgrammer(folder, device.oemPkHash);
    const ss = 512;
    const entry = (label: string, file: string, start: number | string, sectors: number) =>
      `<program SECTOR_SIZE_IN_BYTES="${ss}" file_sector_offset="0" filename="${file}" label="${label}" num_partition_sectors="${sectors}" physical_partition_number="0" start_sector="${start}"/>`;
    await fs.writeFile(
      join(folder, 'rawprogram0.xml'),
      `<?xml version="1.0" ?>\n<data>\n${entry('xbl', 'xbl.elf', part('xbl').firstLba, 512)}\n${entry('boot', 'boot.img', part('boot').firstLba, 4096)}\n${entry('last', 'tail.bin', 'NUM_DISK_SECTORS-3.', 1)}\n${entry('userdata', '', part('userdata').firstLba, 0)}\n</data>\n`,
    );
    const abl = part('abl').firstLba;
    await fs.writeFile(
      join(folder, 'patch0.xml'),
      `<?xml version="1.0" ?>\n<patches>\n<patch SECTOR_SIZE_IN_BYTES="${ss}" byte_offset="0" filename="DISK" physical_partition_number="0" size_in_bytes="8" start_sector="${abl}" value="NUM_DISK_SECTORS-1."/>\n<patch SECTOR_SIZE_IN_BYTES="${ss}" byte_offset="8" filename="DISK" physical_partition_number="0" size_in_bytes="4" start_sector="${abl}" value="CRC32(${part('boot').firstLba},1024)"/>\n<patch SECTOR_SIZE_IN_BYTES="${ss}" byte_offset="0" filename="gpt_main0.bin" physical_partition_number="0" size_in_bytes="4" start_sector="1" value="0"/>\n</patches>\n`,
    );
    const packed = await pack(folder);
    assert.equal(packed.code, 0, describeRun(packed));
    const r = await runFlashline(
      [
        'rescue',
        join(dir, 'rescue.flp'),
        '--device',
        `serial:${device.ptyPath}`,
        '--come-back',
        'tcp:127.0.0.1:1',
        '--come-back-timeout',
        '1',
      ],
      { env: homeEnv(dir) },
    );
    // Programmed, but random bytes in xbl/boot do not boot: the device stays in EDL and is not back (41).
    assert.equal(r.code, 41, describeRun(r));
    assert.match(r.stdout, /did not come back at tcp:127\.0\.0\.1:1/);
    const st = device.storage;
    assert.ok((await st.read(part('xbl').firstLba * ss, xbl.byteLength)).equals(xbl));
    assert.ok((await st.read(part('boot').firstLba * ss, boot.byteLength)).equals(boot));
    assert.ok((await st.read((st.totalSectors - 3) * ss, ss)).equals(tail));
    const patched = await st.read(abl * ss, 12);
    assert.equal(patched.readBigUInt64LE(0), BigInt(st.totalSectors - 1));
    assert.equal(patched.readUInt32LE(8), crc32(boot.subarray(0, 1024)));
    assert.equal(device.state.bootableDrive, 0);
    assert.ok(device.history.includes('firehose: reset'), device.history.join(', '));
  });
});
