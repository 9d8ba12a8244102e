/**
 * The rescue layout plan: rawprogram/patch files parsed into one plan; security settings (secdata, fuses,
 * SecureBoot) refused unless allowed, wherever they are named; only plain file names; the files and bytes
 * the plan programs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  plannedFiles,
  planRescue,
  programBytes,
  RescueLayoutError,
} from '../../../main/protocol/firehose/index.js';

const program = (label: string, filename: string, extra = '') =>
  `<program SECTOR_SIZE_IN_BYTES="512" filename="${filename}" label="${label}" num_partition_sectors="8" physical_partition_number="0" start_sector="100" ${extra}/>`;
const raw = (...entries: string[]) => ({
  name: 'rawprogram0.xml',
  text: `<?xml version="1.0" ?><data>${entries.join('')}</data>`,
});
const fusePatch = {
  name: 'patch0.xml',
  text: '<?xml version="1.0" ?><patches><patch SECTOR_SIZE_IN_BYTES="512" byte_offset="0" filename="DISK" physical_partition_number="0" size_in_bytes="4" start_sector="1" value="1" what="Blow SecureBoot fuse"/></patches>',
};

describe('rescue layout plan', () => {
  it('lists the programmed files once and the bytes after each file sector offset', () => {
    const plan = planRescue(
      [
        raw(
          program('boot', 'boot.img'),
          program('boot_b', 'boot.img'),
          program('sys', 'sys.img', 'file_sector_offset="2"'),
          program('userdata', ''),
        ),
      ],
      [],
    );
    assert.deepEqual(plannedFiles(plan), ['boot.img', 'sys.img']);
    assert.equal(
      programBytes(plan, (f) => (f === 'boot.img' ? 4096 : 2048)),
      4096 * 2 + (2048 - 1024),
    );
  });

  it('refuses security settings unless allowed: a secdata label, a fuse patch', () => {
    assert.throws(() => planRescue([raw(program('secdata', 'sec.dat'))], []), /secdata.*--allow-secdata/);
    assert.throws(
      () => planRescue([raw(program('boot', 'boot.img'))], [fusePatch]),
      (err: Error) => {
        assert.ok(err instanceof RescueLayoutError);
        assert.match(err.message, /patch0\.xml: <patch what="Blow SecureBoot fuse">/);
        return true;
      },
    );
    const allowed = planRescue([raw(program('secdata', 'sec.dat'))], [fusePatch], { allowSecdata: true });
    assert.equal(allowed.patches.length, 1);
  });

  it('refuses file names that leave the folder, and files that are not rawprogram XML', () => {
    assert.throws(() => planRescue([raw(program('boot', '../boot.img'))], []), /only plain file names/);
    assert.throws(
      () => planRescue([{ name: 'rawprogram0.xml', text: '<patches/>' }], []),
      /rawprogram0\.xml: root <patches>/,
    );
    assert.throws(() => planRescue([], []), /no rawprogram/);
  });
});
