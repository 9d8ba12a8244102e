/**
 * Super layout operations (liblp MetadataBuilder semantics): invariants under random operation sequences, and
 * update-super's merge (without wipe) and replacement (with wipe).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  addGroup,
  BLOCK_DEVICE_FLAG,
  createPartition,
  deletePartition,
  freeBytes,
  GROUP_FLAG,
  LP_SECTOR_SIZE,
  logicalPartitionExtents,
  mergeLayout,
  metadataForSlot,
  newSuperMetadata,
  partitionSize,
  resizePartition,
  SuperLayoutError,
  type SuperMetadata,
  validateSuperMetadata,
  wipeLayout,
} from '../../../main/protocol/fastboot/super/index.js';
import { applyOp, arbitraryBase, arbitraryOp, baseMetadata } from './super-arbitraries.js';

function alignedSector(md: SuperMetadata, device: number, sector: number): boolean {
  const a = md.blockDevices[device]!.alignment;
  return a === 0 || (sector * LP_SECTOR_SIZE) % a === 0;
}

/** The invariants every operation keeps. */
function checkInvariants(md: SuperMetadata): void {
  validateSuperMetadata(md); // within bounds, no overlap, group limits, names, references
  const block = md.geometry.logicalBlockSize;
  for (const p of md.partitions) {
    const size = partitionSize(md, p.name);
    assert.equal(size % block, 0, `${p.name} size ${size} is a multiple of the block size`);
    p.extents.forEach((e, i) => {
      assert.equal((e.numSectors * LP_SECTOR_SIZE) % LP_SECTOR_SIZE, 0);
      if (e.type !== 'linear') return;
      const prev = p.extents[i - 1];
      const continues =
        prev?.type === 'linear' &&
        prev.targetSource === e.targetSource &&
        prev.targetData + prev.numSectors === e.targetData;
      assert.ok(
        continues || alignedSector(md, e.targetSource, e.targetData),
        `${p.name} extent ${i} at sector ${e.targetData} is aligned or continues the previous extent`,
      );
    });
    const ranges = logicalPartitionExtents(md, p.name);
    assert.equal(
      ranges.reduce((n, r) => n + r.length, 0),
      size,
    );
    for (const r of ranges) {
      if (r.type !== 'linear') continue;
      const bd = md.blockDevices.find((b) => b.partitionName === r.blockDevice)!;
      assert.ok(r.offset >= bd.firstLogicalSector * LP_SECTOR_SIZE && r.offset + r.length <= bd.size);
    }
  }
  const used = md.partitions.reduce((n, p) => n + partitionSize(md, p.name), 0);
  const usable = md.blockDevices.reduce((n, b) => n + b.size - b.firstLogicalSector * LP_SECTOR_SIZE, 0);
  assert.ok(used + freeBytes(md) <= usable, 'used + free fits in the usable space');
}

describe('super layout: properties', () => {
  it('random create/resize/delete sequences keep every invariant; refusals leave the layout unchanged', () => {
    fc.assert(
      fc.property(arbitraryBase, fc.array(arbitraryOp, { maxLength: 25 }), (base, ops) => {
        let md = baseMetadata(base);
        checkInvariants(md);
        for (const op of ops) {
          const before = md;
          const r = applyOp(md, op);
          if (r.refused) {
            assert.ok(r.refused.message.length > 10);
            assert.equal(r.md, before);
          }
          md = r.md;
          checkInvariants(md);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('a new partition fits exactly when its rounded size is at most freeBytes and its group allows it', () => {
    fc.assert(
      fc.property(
        arbitraryBase,
        fc.array(arbitraryOp, { maxLength: 10 }),
        fc.integer({ min: 1, max: 20 * 1024 * 1024 }),
        (base, ops, size) => {
          let md = baseMetadata({ ...base, groupLimits: [] });
          for (const op of ops) md = applyOp(md, op).md;
          const rounded = Math.ceil(size / md.geometry.logicalBlockSize) * md.geometry.logicalBlockSize;
          const free = freeBytes(md);
          const r = applyOp(md, { op: 'create', name: 'new_one', group: 0, size, attributes: 0 });
          assert.equal(r.refused === undefined, rounded <= free, `size ${rounded}, free ${free}`);
          if (!r.refused) {
            assert.equal(partitionSize(r.md, 'new_one'), rounded);
            assert.ok(freeBytes(r.md) <= free - rounded);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  it('shrinking keeps the first bytes in place (the partition content stays where it was)', () => {
    fc.assert(
      fc.property(arbitraryBase, fc.array(arbitraryOp, { maxLength: 10 }), fc.nat(), (base, ops, cut) => {
        let md = baseMetadata(base);
        for (const op of ops) md = applyOp(md, op).md;
        const p = md.partitions.find((x) => partitionSize(md, x.name) > 0);
        if (!p) return;
        const size = partitionSize(md, p.name);
        const smaller =
          Math.floor((cut % size) / md.geometry.logicalBlockSize) * md.geometry.logicalBlockSize;
        const after = resizePartition(md, p.name, smaller);
        const prefix = (ranges: ReturnType<typeof logicalPartitionExtents>) => {
          const bytes: string[] = [];
          for (const r of ranges) {
            const n = Math.min(r.length, smaller - r.logicalOffset);
            if (n <= 0) break;
            bytes.push(r.type === 'linear' ? `${r.blockDevice}@${r.offset}+${n}` : `zero+${n}`);
          }
          return bytes;
        };
        assert.deepEqual(
          prefix(logicalPartitionExtents(after, p.name)),
          prefix(logicalPartitionExtents(md, p.name)),
        );
        assert.equal(partitionSize(after, p.name), smaller);
      }),
      { numRuns: 100 },
    );
  });
});

describe('super layout: update-super merge (property)', () => {
  it('keeps every other-slot partition with its extents, takes the new layout for the rest, or says wipe needed', () => {
    fc.assert(
      fc.property(
        arbitraryBase,
        fc.array(arbitraryOp, { maxLength: 15 }),
        fc.array(fc.constantFrom('system_a', 'vendor_a', 'system_b', 'odm'), { maxLength: 4 }),
        (base, ops, nextNames) => {
          const empty = baseMetadata(base);
          let current = empty;
          for (const op of ops) current = applyOp(current, op).md;
          let next = empty;
          for (const name of new Set(nextNames)) next = createPartition(next, { name, size: 0 });
          let merged: SuperMetadata;
          try {
            merged = mergeLayout(current, next, { currentSlotSuffix: '_a' });
          } catch (err) {
            assert.ok(err instanceof SuperLayoutError && /wipe needed/.test(err.message), String(err));
            return;
          }
          checkInvariants(merged);
          for (const p of current.partitions) {
            const m = merged.partitions.find((x) => x.name === p.name);
            if (p.name.endsWith('_a')) {
              if (m) assert.equal(partitionSize(merged, p.name), 0);
            } else {
              assert.deepEqual(m?.extents, p.extents, `${p.name} kept`);
            }
          }
          for (const p of next.partitions) assert.ok(merged.partitions.some((x) => x.name === p.name));
        },
      ),
      { numRuns: 150 },
    );
  });
});

describe('super layout: operations', () => {
  const base = () =>
    newSuperMetadata({
      size: 32 * 1024 * 1024,
      groups: [
        { name: 'main_a', maximumSize: 12 * 1024 * 1024 },
        { name: 'main_b', maximumSize: 12 * 1024 * 1024 },
      ],
    });

  it('allocates aligned extents after the metadata and frees them on delete', () => {
    let md = base();
    const free0 = freeBytes(md);
    assert.equal(free0, 31 * 1024 * 1024); // 1 MiB of metadata region, aligned
    md = createPartition(md, { name: 'system_a', group: 'main_a', size: 5000 });
    assert.equal(partitionSize(md, 'system_a'), 8192);
    assert.deepEqual(logicalPartitionExtents(md, 'system_a'), [
      { type: 'linear', logicalOffset: 0, offset: 1024 * 1024, length: 8192, blockDevice: 'super' },
    ]);
    md = createPartition(md, { name: 'vendor_a', group: 'main_a', size: 4096 });
    // the next extent starts at the next 1 MiB boundary
    assert.deepEqual(logicalPartitionExtents(md, 'vendor_a')[0], {
      type: 'linear',
      logicalOffset: 0,
      offset: 2 * 1024 * 1024,
      length: 4096,
      blockDevice: 'super',
    });
    // growing system_a first fills its own tail up to the boundary, then takes a new aligned region
    md = resizePartition(md, 'system_a', 2 * 1024 * 1024);
    const ranges = logicalPartitionExtents(md, 'system_a');
    assert.deepEqual(
      ranges.map((r) => (r.type === 'linear' ? [r.offset, r.length] : [])),
      [
        [1024 * 1024, 8192],
        [1024 * 1024 + 8192, 1024 * 1024 - 8192],
        [3 * 1024 * 1024, 1024 * 1024],
      ],
    );
    md = deletePartition(md, 'vendor_a');
    md = deletePartition(md, 'system_a');
    assert.equal(freeBytes(md), free0);
  });

  it('refuses what cannot be done, saying why', () => {
    const md = createPartition(base(), { name: 'system_a', group: 'main_a', size: 10 * 1024 * 1024 });
    const layoutError = (re: RegExp) => (err: unknown) =>
      err instanceof SuperLayoutError && re.test(err.message);
    assert.throws(
      () => createPartition(md, { name: 'vendor_a', group: 'main_a', size: 3 * 1024 * 1024 }),
      layoutError(/group 'main_a' allows/),
    );
    assert.throws(() => createPartition(md, { name: 'system_a', size: 1 }), layoutError(/already exists/));
    assert.throws(
      () => createPartition(md, { name: 'odm', group: 'nope', size: 1 }),
      layoutError(/group 'nope' does not exist/),
    );
    assert.throws(() => resizePartition(md, 'nope', 1), layoutError(/no logical partition 'nope'/));
    assert.throws(
      () => createPartition(md, { name: 'big', size: 40 * 1024 * 1024 }),
      layoutError(/not enough free space/),
    );
    assert.throws(() => createPartition(md, { name: 'bad name', size: 1 }), layoutError(/printable/));
    assert.throws(() => addGroup(md, { name: 'main_a', maximumSize: 0 }), layoutError(/already exists/));
    assert.throws(() => newSuperMetadata({ size: 64 * 1024 }), layoutError(/at least/));
  });

  it('update-super without wipe keeps the other slot and takes the new layout (fastbootd UpdateSuper)', () => {
    let current = base();
    current = createPartition(current, { name: 'system_a', group: 'main_a', size: 4 * 1024 * 1024 });
    current = createPartition(current, { name: 'system_b', group: 'main_b', size: 3 * 1024 * 1024 });
    current = createPartition(current, { name: 'scratch', size: 1024 * 1024 });
    let next = base();
    for (const name of ['system_a', 'vendor_a'])
      next = createPartition(next, { name, group: 'main_a', size: 0 });
    for (const name of ['system_b', 'vendor_b'])
      next = createPartition(next, { name, group: 'main_b', size: 0 });
    const merged = mergeLayout(current, next, { currentSlotSuffix: '_a' });
    assert.deepEqual(
      merged.partitions.map((p) => [p.name, partitionSize(merged, p.name)]),
      [
        ['system_a', 0],
        ['vendor_a', 0],
        ['system_b', 3 * 1024 * 1024],
        ['vendor_b', 0],
      ],
    );
    assert.deepEqual(
      logicalPartitionExtents(merged, 'system_b'),
      logicalPartitionExtents(current, 'system_b'),
    );
    // the new slot can then be laid out around the kept extents
    const grown = resizePartition(merged, 'system_a', 8 * 1024 * 1024);
    validateSuperMetadata(grown);
    // a Virtual A/B device keeps neither slot
    const vab = mergeLayout(current, next, { currentSlotSuffix: '_a', virtualAb: true });
    assert.equal(partitionSize(vab, 'system_b'), 0);
    // a different super needs a wipe
    const other = newSuperMetadata({ size: 16 * 1024 * 1024, groups: [{ name: 'main_b', maximumSize: 0 }] });
    assert.throws(() => mergeLayout(current, other, { currentSlotSuffix: '_a' }), /wipe needed/);
    // a kept partition whose group is gone needs a wipe
    const noGroups = newSuperMetadata({ size: 32 * 1024 * 1024 });
    assert.throws(
      () => mergeLayout(current, noGroups, { currentSlotSuffix: '_a' }),
      /group 'main_b'.*wipe|wipe needed/,
    );
  });

  it('metadataForSlot names slot-suffixed partitions, groups and block devices as the device sees them', () => {
    const base = newSuperMetadata({ size: 16 * 1024 * 1024, superName: 'system' });
    let md: SuperMetadata = {
      ...base,
      groups: [...base.groups, { name: 'main', flags: GROUP_FLAG.slotSuffixed, maximumSize: 0 }],
      blockDevices: [{ ...base.blockDevices[0]!, flags: BLOCK_DEVICE_FLAG.slotSuffixed }],
    };
    md = createPartition(md, { name: 'vendor', group: 'main', size: 4096, attributes: 3 });
    md = createPartition(md, { name: 'odm', size: 4096, attributes: 1 });
    const b = metadataForSlot(md, 1);
    assert.deepEqual(
      b.partitions.map((p) => [p.name, p.group, p.attributes]),
      [
        ['vendor_b', 'main_b', 1],
        ['odm', 'default', 1],
      ],
    );
    assert.equal(b.blockDevices[0]!.partitionName, 'system_b');
    assert.equal(b.blockDevices[0]!.flags, 0);
    validateSuperMetadata(b);
  });

  it('update-super with wipe takes the layout as is, for a super of the same size only', () => {
    const next = createPartition(base(), { name: 'system_a', group: 'main_a', size: 4096 });
    assert.equal(wipeLayout(next, 32 * 1024 * 1024, 'super'), next);
    assert.throws(() => wipeLayout(next, 16 * 1024 * 1024), /larger than this device's/);
    assert.throws(() => wipeLayout(next, 64 * 1024 * 1024), /made for a super of/);
    assert.throws(() => wipeLayout(next, 32 * 1024 * 1024, 'super_x'), /partition 'super'/);
  });
});
