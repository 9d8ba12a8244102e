/**
 * Peer check with liblp itself: Google's fastboot (Debian 29.0.6) links AOSP liblp. `fastboot wipe-super
 * super_empty.img` parses the image with liblp's reader (refusing it with liblp's own message when it is
 * damaged), builds a whole super metadata region with liblp's image builder and flashes it to the device's
 * `super`. Here the device is a reference virtual device given a plain `super` partition; afterwards Flashline's
 * reader reads every slot of what liblp wrote, and the metadata region equals, byte for byte, what
 * flashSuperMetadata writes for the same layout.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import {
  backupMetadataOffset,
  createPartition,
  encodeGeometry,
  encodeMetadata,
  encodeSuperEmpty,
  flashSuperMetadata,
  LP_SECTOR_SIZE,
  newSuperMetadata,
  parseSuperEmpty,
  primaryMetadataOffset,
  readSuperMetadataWithReport,
  SuperFormatError,
  type SuperMetadata,
} from '../../../main/protocol/fastboot/super/index.js';
import {
  DEFAULT_PARTITIONS,
  startVirtualDevice,
  type VirtualDeviceHandle,
} from '../../../virtual-device/index.js';
import { arbitraryMetadata } from '../../unit/protocol/super-arbitraries.js';

const run = promisify(execFile);
const FASTBOOT = '/usr/bin/fastboot';
const SUPER_SIZE = 16 * 1024 * 1024;
const MiB = 1024 * 1024;

let dir = '';
let vd: VirtualDeviceHandle | undefined;
const skip = existsSync(FASTBOOT) ? undefined : `${FASTBOOT} is not installed (Debian package fastboot)`;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'flashline-super-fastboot-'));
  if (skip) return;
  vd = await startVirtualDevice({
    stateDir: join(dir, 'state'),
    partitions: [
      ...DEFAULT_PARTITIONS.map((p) => ({ ...p, size: Math.min(p.size, 8 * MiB) })),
      { name: 'super', size: SUPER_SIZE, slotted: false },
    ],
  });
});
after(async () => {
  await vd?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function wipeSuper(md: SuperMetadata | Uint8Array): Promise<{ code: number; output: string }> {
  const file = join(dir, 'super_empty.img');
  await writeFile(file, md instanceof Uint8Array ? md : encodeSuperEmpty(md));
  try {
    const { stdout, stderr } = await run(FASTBOOT, ['-s', vd!.address, 'wipe-super', file], {
      timeout: 60_000,
    });
    return { code: 0, output: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, output: (e.stdout ?? '') + (e.stderr ?? '') };
  }
}

/**
 * liblp's image builder (images.cpp CheckExtentOrdering) only serializes tables whose extents are all linear and
 * in increasing sector order in table order — a limit of that writer, not of the format (factory super_empty
 * images have no extents at all).
 */
function imageBuilderAccepts(md: SuperMetadata): boolean {
  let last = 0;
  for (const p of md.partitions) {
    for (const e of p.extents) {
      if (e.type !== 'linear' || e.targetData <= last) return false;
      last = e.targetData;
    }
  }
  return true;
}

/** Check what liblp wrote to the device's super against Flashline's reader and writer. */
async function checkDeviceSuper(md: SuperMetadata, fresh = false): Promise<void> {
  const fh = await open(join(dir, 'state', 'partitions', 'super.img'), 'r');
  try {
    const reader = {
      read: async (offset: number, length: number) => {
        const buf = new Uint8Array(length);
        const { bytesRead } = await fh.read(buf, 0, length, offset);
        return buf.subarray(0, bytesRead);
      },
    };
    for (let slot = 0; slot < md.geometry.metadataSlotCount; slot++) {
      const { metadata, recovered } = await readSuperMetadataWithReport(reader, { slot });
      assert.deepEqual(recovered, []);
      assert.deepEqual(metadata, md);
    }
    // Byte identity of what both write: the geometry copies and every metadata copy.
    const geometry = encodeGeometry(md.geometry);
    const blob = encodeMetadata(md);
    assert.ok(
      Buffer.from(await reader.read(4096, 4096)).equals(geometry),
      'primary geometry differs from liblp',
    );
    assert.ok(
      Buffer.from(await reader.read(8192, 4096)).equals(geometry),
      'backup geometry differs from liblp',
    );
    for (let slot = 0; slot < md.geometry.metadataSlotCount; slot++) {
      for (const offset of [
        primaryMetadataOffset(md.geometry, slot),
        backupMetadataOffset(md.geometry, slot),
      ]) {
        assert.ok(
          Buffer.from(await reader.read(offset, blob.length)).equals(blob),
          `copy at ${offset} differs`,
        );
      }
    }
    if (fresh) {
      // On a never-written super the whole metadata region matches what flashSuperMetadata writes.
      const region = md.blockDevices[0]!.firstLogicalSector * LP_SECTOR_SIZE;
      const ours = new Uint8Array(region);
      await flashSuperMetadata({ write: async (offset, bytes) => ours.set(bytes, offset) }, md);
      assert.ok(Buffer.from(await reader.read(0, region)).equals(ours), 'metadata region differs from liblp');
    }
  } finally {
    await fh.close();
  }
}

describe('fastboot wipe-super (liblp) with super_empty.img written by Flashline', { skip }, () => {
  it('an A/B layout: liblp accepts it, writes super; Flashline reads every slot and writes the same bytes', async () => {
    let md = newSuperMetadata({
      size: SUPER_SIZE,
      groups: [
        { name: 'main_a', maximumSize: 7 * MiB },
        { name: 'main_b', maximumSize: 7 * MiB },
      ],
    });
    for (const slot of ['a', 'b']) {
      for (const name of ['system', 'vendor', 'product']) {
        md = createPartition(md, { name: `${name}_${slot}`, group: `main_${slot}`, size: 0 });
      }
    }
    const result = await wipeSuper(md);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /Writing 'super'\s+OKAY/);
    await checkDeviceSuper(md, true);
  });

  it('random layouts (partitions with ordered extents, header 10.0–10.2, 1–3 slots): same round trip', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryMetadata().filter(
          (m) =>
            m.blockDevices.length === 1 && m.blockDevices[0]!.size <= SUPER_SIZE && imageBuilderAccepts(m),
        ),
        async (md) => {
          const result = await wipeSuper(md);
          assert.equal(result.code, 0, result.output);
          await checkDeviceSuper(md);
        },
      ),
      { numRuns: 6 },
    );
  });

  it('a damaged super_empty.img: liblp refuses it with its own words, and so does Flashline', async () => {
    const img = encodeSuperEmpty(
      createPartition(newSuperMetadata({ size: SUPER_SIZE }), { name: 'system_a', size: 0 }),
    );
    img[4096 + 20]! ^= 1;
    const result = await wipeSuper(img);
    assert.notEqual(result.code, 0);
    assert.match(result.output, /\[liblp\]Logical partition metadata has invalid checksum/);
    assert.match(result.output, /Could not parse image/);
    assert.throws(() => parseSuperEmpty(img), SuperFormatError);
    assert.ok((await readFile(join(dir, 'super_empty.img'))).length > 0);
  });
});
