/**
 * Super partition metadata codec (liblp format): round trips, refusal of damaged bytes, recovery from the
 * backup copies, and the hand-checked byte layout of the structures.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  backupMetadataOffset,
  createPartition,
  encodeGeometry,
  encodeMetadata,
  encodeSuperEmpty,
  flashSuperMetadata,
  isSuperEmptyImage,
  newSuperMetadata,
  parseGeometry,
  parseMetadata,
  parseSuperEmpty,
  primaryMetadataOffset,
  readSuperEmptyStream,
  readSuperGeometry,
  readSuperMetadata,
  readSuperMetadataWithReport,
  SuperFormatError,
  type SuperMetadata,
  type SuperReader,
  type SuperWriter,
  writeSuperMetadata,
} from '../../../main/protocol/fastboot/super/index.js';
import { arbitraryMetadata } from './super-arbitraries.js';

const RUNS = { numRuns: 60 };

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

/** Recompute both checksums of a metadata blob after a test patched it (to reach the deeper checks). */
function resealed(blob: Uint8Array): Uint8Array {
  const out = blob.slice();
  const dv = new DataView(out.buffer);
  const headerSize = dv.getUint32(8, true);
  const tablesSize = dv.getUint32(44, true);
  out.set(sha256(out.subarray(headerSize, headerSize + tablesSize)), 48);
  out.fill(0, 12, 44);
  out.set(sha256(out.subarray(0, headerSize)), 12);
  return out;
}

function memorySuper(size: number): { bytes: Uint8Array; reader: SuperReader; writer: SuperWriter } {
  const bytes = new Uint8Array(size);
  return {
    bytes,
    reader: { read: async (offset, length) => bytes.slice(offset, Math.min(offset + length, bytes.length)) },
    writer: {
      write: async (offset, data) => {
        assert.ok(offset + data.length <= bytes.length, 'write past the end of super');
        bytes.set(data, offset);
      },
    },
  };
}

function small(): SuperMetadata {
  let md = newSuperMetadata({
    size: 4 * 1024 * 1024,
    metadataMaxSize: 4096,
    alignment: 65536,
    groups: [{ name: 'main_a', maximumSize: 2 * 1024 * 1024 }],
  });
  md = createPartition(md, { name: 'system_a', group: 'main_a', size: 1024 * 1024 });
  md = createPartition(md, { name: 'vendor_a', group: 'main_a', size: 12288 });
  return createPartition(md, { name: 'system_b', size: 0 });
}

describe('super codec: byte layout', () => {
  it('writes the geometry as liblp lays it out (magic, struct size 52, SHA-256, max size, slots, block size)', () => {
    const g = encodeGeometry({ metadataMaxSize: 65536, metadataSlotCount: 3, logicalBlockSize: 4096 });
    assert.equal(g.length, 4096);
    const dv = new DataView(g.buffer);
    assert.equal(dv.getUint32(0, true), 0x616c4467);
    assert.equal(Buffer.from(g.subarray(0, 4)).toString('latin1'), 'gDla');
    assert.equal(dv.getUint32(4, true), 52);
    assert.equal(dv.getUint32(40, true), 65536);
    assert.equal(dv.getUint32(44, true), 3);
    assert.equal(dv.getUint32(48, true), 4096);
    const zeroed = g.slice(0, 52);
    zeroed.fill(0, 8, 40);
    assert.deepEqual(Buffer.from(g.subarray(8, 40)), sha256(zeroed));
    assert.ok(g.subarray(52).every((b) => b === 0));
  });

  it('writes a 10.0 header of 128 bytes and tables in the order partitions, extents, groups, block devices', () => {
    const md = small();
    const blob = encodeMetadata(md);
    const dv = new DataView(blob.buffer);
    assert.equal(Buffer.from(blob.subarray(0, 4)).toString('latin1'), '0PLA');
    assert.equal(dv.getUint16(4, true), 10);
    assert.equal(dv.getUint16(6, true), 0);
    assert.equal(dv.getUint32(8, true), 128);
    const tablesSize = dv.getUint32(44, true);
    assert.equal(blob.length, 128 + tablesSize);
    const desc = [0, 1, 2, 3].map((i) =>
      [80 + i * 12, 84 + i * 12, 88 + i * 12].map((o) => dv.getUint32(o, true)),
    );
    assert.deepEqual(desc, [
      [0, 3, 52],
      [156, 2, 24],
      [204, 2, 48],
      [300, 1, 64],
    ]);
    assert.equal(tablesSize, 364);
    // partition 0: name, attributes readonly, first extent 0, 1 extent, group 1 (main_a)
    const p0 = 128;
    assert.equal(Buffer.from(blob.subarray(p0, p0 + 8)).toString('latin1'), 'system_a');
    assert.equal(blob[p0 + 8], 0);
    assert.deepEqual(
      [36, 40, 44, 48].map((o) => dv.getUint32(p0 + o, true)),
      [1, 0, 1, 1],
    );
    // extent 0: sectors, linear, target sector = first logical sector, block device 0
    const e0 = 128 + 156;
    assert.equal(Number(dv.getBigUint64(e0, true)), 2048);
    assert.equal(dv.getUint32(e0 + 8, true), 0);
    assert.equal(Number(dv.getBigUint64(e0 + 12, true)), md.blockDevices[0]!.firstLogicalSector);
    assert.equal(dv.getUint32(e0 + 20, true), 0);
    // block device: first logical sector, alignment, offset, size, name, flags
    const b0 = 128 + 300;
    assert.equal(Number(dv.getBigUint64(b0, true)), md.blockDevices[0]!.firstLogicalSector);
    assert.equal(dv.getUint32(b0 + 8, true), 65536);
    assert.equal(Number(dv.getBigUint64(b0 + 16, true)), 4 * 1024 * 1024);
    assert.equal(Buffer.from(blob.subarray(b0 + 24, b0 + 29)).toString('latin1'), 'super');
  });

  it('places the metadata as liblp does: reserved 4096, geometry ×2, primaries, backups; first sector after them', () => {
    const g = { metadataMaxSize: 65536, metadataSlotCount: 2 };
    assert.equal(primaryMetadataOffset(g, 0), 12288);
    assert.equal(primaryMetadataOffset(g, 1), 12288 + 65536);
    assert.equal(backupMetadataOffset(g, 0), 12288 + 2 * 65536);
    assert.equal(backupMetadataOffset(g, 1), 12288 + 3 * 65536);
    const md = newSuperMetadata({ size: 64 * 1024 * 1024 });
    // 4096 + 2 × (4096 + 2 × 65536) = 274432, aligned up to 1 MiB
    assert.equal(md.blockDevices[0]!.firstLogicalSector, 2048);
  });

  it('writes a 10.2 header (256 bytes) when header flags are set', () => {
    const md = newSuperMetadata({ size: 8 * 1024 * 1024, headerFlags: 1 });
    const blob = encodeMetadata(md);
    const dv = new DataView(blob.buffer);
    assert.equal(dv.getUint16(6, true), 2);
    assert.equal(dv.getUint32(8, true), 256);
    assert.equal(dv.getUint32(128, true), 1);
    assert.deepEqual(parseMetadata(md.geometry, blob).header, { major: 10, minor: 2, flags: 1 });
  });

  it('reads a super_empty.img from a stream, refusing one that is too large without buffering it', async () => {
    const md = small();
    const img = encodeSuperEmpty(md);
    async function* chunks(bytes: Uint8Array, size: number) {
      for (let i = 0; i < bytes.length; i += size) yield Buffer.from(bytes.subarray(i, i + size));
    }
    assert.deepEqual(await readSuperEmptyStream(chunks(img, 1000)), md);
    await assert.rejects(readSuperEmptyStream(chunks(img, 1000), 4096), /too large for a super_empty.img/);
    await assert.rejects(readSuperEmptyStream([img.subarray(0, 100)]), SuperFormatError);
  });

  it('a super_empty.img is geometry + one metadata copy, nothing else', () => {
    const md = small();
    const img = encodeSuperEmpty(md);
    assert.equal(img.length, 4096 + encodeMetadata(md).length);
    assert.ok(isSuperEmptyImage(img));
    assert.ok(!isSuperEmptyImage(new Uint8Array([0x3a, 0xff, 0x26, 0xed])));
  });
});

describe('super codec: properties', () => {
  it('metadata and super_empty.img round-trip', () => {
    fc.assert(
      fc.property(arbitraryMetadata(), (md) => {
        const blob = encodeMetadata(md);
        assert.deepEqual(parseMetadata(md.geometry, blob), md);
        const img = encodeSuperEmpty(md);
        const back = parseSuperEmpty(img);
        assert.deepEqual(back, md);
        assert.deepEqual(encodeSuperEmpty(back), img);
      }),
      RUNS,
    );
  });

  it('any single damaged byte of the geometry struct, header or tables is refused with SuperFormatError', () => {
    fc.assert(
      fc.property(arbitraryMetadata(), fc.nat(), fc.integer({ min: 1, max: 255 }), (md, at, xor) => {
        const img = encodeSuperEmpty(md);
        const meaningful = [
          ...Array.from({ length: 52 }, (_, i) => i),
          ...Array.from({ length: img.length - 4096 }, (_, i) => 4096 + i),
        ];
        const pos = meaningful[at % meaningful.length]!;
        const bad = img.slice();
        bad[pos]! ^= xor;
        assert.throws(() => parseSuperEmpty(bad), SuperFormatError);
      }),
      { numRuns: 300 },
    );
  });

  it('any truncation of a super_empty.img is refused', () => {
    fc.assert(
      fc.property(arbitraryMetadata(), fc.nat(), (md, n) => {
        const img = encodeSuperEmpty(md);
        const cut = 4096 + (n % (img.length - 4096));
        assert.throws(() => parseSuperEmpty(img.subarray(0, cut)), SuperFormatError);
        assert.throws(() => parseSuperEmpty(img.subarray(0, n % 4096)), SuperFormatError);
      }),
      RUNS,
    );
  });

  it('random bytes never parse and never throw anything but SuperFormatError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 6000 }), fc.boolean(), (bytes, withMagic) => {
        const b = bytes.slice();
        if (withMagic && b.length >= 4) b.set([0x67, 0x44, 0x6c, 0x61]);
        assert.throws(() => parseSuperEmpty(b), SuperFormatError);
      }),
      RUNS,
    );
  });

  it('a whole super: every slot reads back; a damaged primary byte is recovered from the backup', async () => {
    await fc.assert(
      fc.asyncProperty(
        arbitraryMetadata(),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        async (md, at, xor) => {
          const sup = memorySuper(md.blockDevices[0]!.firstLogicalSector * 512);
          await flashSuperMetadata(sup.writer, md);
          for (let slot = 0; slot < md.geometry.metadataSlotCount; slot++) {
            assert.deepEqual(await readSuperMetadata(sup.reader, { slot }), md);
          }
          const blobLength = encodeMetadata(md).length;
          const slot = at % md.geometry.metadataSlotCount;
          const inGeometry = at % 3 === 0;
          const pos = inGeometry
            ? 4096 + (at % 52)
            : primaryMetadataOffset(md.geometry, slot) + (at % blobLength);
          sup.bytes[pos]! ^= xor;
          const report = await readSuperMetadataWithReport(sup.reader, { slot });
          assert.deepEqual(report.metadata, md);
          assert.deepEqual(report.recovered, [inGeometry ? 'primary-geometry' : 'primary-metadata']);
          // damage the same byte of the backup copy too: refused, with both reasons
          const backupPos = inGeometry
            ? pos + 4096
            : backupMetadataOffset(md.geometry, slot) + (pos - primaryMetadataOffset(md.geometry, slot));
          sup.bytes[backupPos]! ^= xor;
          await assert.rejects(readSuperMetadata(sup.reader, { slot }), (err: unknown) => {
            assert.ok(err instanceof SuperFormatError);
            assert.match(err.message, /neither/);
            return true;
          });
        },
      ),
      { numRuns: 40 },
    );
  });
});

describe('super codec: refusals say what is wrong', () => {
  const md = small();
  const blob = encodeMetadata(md);
  const tables = 128;
  const refuse = (bytes: Uint8Array, pattern: RegExp) =>
    assert.throws(
      () => parseMetadata(md.geometry, bytes),
      (err: unknown) => err instanceof SuperFormatError && pattern.test(err.message),
    );

  it('overlapping extents', () => {
    const bad = blob.slice();
    const dv = new DataView(bad.buffer);
    // extent 1 (vendor_a) moved onto extent 0 (system_a)
    dv.setBigUint64(tables + 156 + 24 + 12, dv.getBigUint64(tables + 156 + 12, true), true);
    refuse(resealed(bad), /overlap/);
  });

  it('an extent outside the block device', () => {
    const bad = blob.slice();
    new DataView(bad.buffer).setBigUint64(tables + 156 + 12, 1n, true);
    refuse(resealed(bad), /outside the usable sectors/);
  });

  it('a name without its NUL or with an unprintable byte', () => {
    const noNul = blob.slice();
    noNul.fill(0x41, tables, tables + 36);
    refuse(resealed(noNul), /NUL-terminated/);
    const ctl = blob.slice();
    ctl[tables + 2] = 0x07;
    refuse(resealed(ctl), /non-printable/);
  });

  it('table bounds, entry sizes, counts and indexes', () => {
    const counts = blob.slice();
    new DataView(counts.buffer).setUint32(84, 1000, true);
    refuse(resealed(counts), /does not fit/);
    const entry = blob.slice();
    new DataView(entry.buffer).setUint32(88, 48, true);
    refuse(resealed(entry), /entries are 48 bytes/);
    const group = blob.slice();
    new DataView(group.buffer).setUint32(tables + 48, 9, true);
    refuse(resealed(group), /group index 9/);
    const source = blob.slice();
    new DataView(source.buffer).setUint32(tables + 156 + 20, 3, true);
    refuse(resealed(source), /block device 3/);
    const extents = blob.slice();
    new DataView(extents.buffer).setUint32(tables + 44, 7, true);
    refuse(resealed(extents), /run past/);
  });

  it('version, attributes and the group limit', () => {
    const version = blob.slice();
    new DataView(version.buffer).setUint16(4, 11, true);
    refuse(resealed(version), /version 11\.0/);
    const attr = blob.slice();
    new DataView(attr.buffer).setUint32(tables + 36, 4, true);
    refuse(resealed(attr), /attributes 0x4/);
    const limit = blob.slice();
    new DataView(limit.buffer).setBigUint64(tables + 204 + 48 + 40, 4096n, true);
    refuse(resealed(limit), /maximum of 4096/);
  });

  it('a geometry that is not liblp, with its magic named', () => {
    assert.throws(() => parseGeometry(new Uint8Array(4096)), /not liblp metadata/);
    const g = encodeGeometry(md.geometry);
    new DataView(g.buffer).setUint32(44, 0, true);
    assert.throws(() => parseGeometry(g), /checksum/);
  });

  it('a super without metadata, and slots that do not exist', async () => {
    const sup = memorySuper(1024 * 1024);
    await assert.rejects(readSuperGeometry(sup.reader), /neither geometry copy/);
    await flashSuperMetadata(sup.writer, md);
    await assert.rejects(readSuperMetadata(sup.reader, { slot: 2 }), /slot 2 does not exist/);
    await assert.rejects(writeSuperMetadata(sup.writer, md, { slot: 5 }), /slot 5 does not exist/);
    const short = memorySuper(10000);
    await assert.rejects(readSuperGeometry(short.reader), SuperFormatError);
  });

  it('encoding refuses metadata that would not fit its metadata max size', () => {
    let big = newSuperMetadata({
      size: 64 * 1024 * 1024,
      metadataMaxSize: 512,
      alignment: 0,
      metadataSlotCount: 1,
    });
    for (let i = 0; i < 4; i++) big = createPartition(big, { name: `p${i}`, size: 4096 });
    assert.throws(() => encodeMetadata(big), /more than the metadata max size 512/);
  });
});
