/**
 * Byte-exact cross-check against real super_empty.img files made by AOSP's lpmake (found in public GitHub
 * repositories; see docs/super.md). The files are not copied here: the test rebuilds each one from its
 * published facts with Flashline's layout API and codec and compares the SHA-256 of the result with the
 * SHA-256 of the real file. Equal hashes mean every byte — geometry padding, header, checksums, table order,
 * first logical sector, alignment — is what liblp writes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  BLOCK_DEVICE_FLAG,
  createPartition,
  encodeSuperEmpty,
  GROUP_FLAG,
  HEADER_FLAG,
  newSuperMetadata,
  PARTITION_ATTRIBUTE,
  parseSuperEmpty,
  type SuperMetadata,
} from '../../../main/protocol/fastboot/super/index.js';

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const { readonly, slotSuffixed } = PARTITION_ATTRIBUTE;

function withPartitions(
  md: SuperMetadata,
  names: string[],
  group: (name: string) => string,
  attributes: number,
) {
  return names.reduce((m, name) => createPartition(m, { name, group: group(name), size: 0, attributes }), md);
}

describe('super_empty.img: byte-exact against real lpmake output', () => {
  it('a non-A/B-named layout, one group (Luphaestus/RomUtils super_empty.img, 4592 bytes)', () => {
    let md = newSuperMetadata({
      size: 10276044800,
      metadataSlotCount: 2,
      groups: [{ name: 'group_basic', maximumSize: 10271850496 }],
    });
    md = withPartitions(md, ['system', 'vendor', 'product', 'odm'], () => 'group_basic', readonly);
    const img = encodeSuperEmpty(md);
    assert.equal(img.length, 4592);
    assert.equal(sha256(img), 'debd941d23403df9c2cb80cffe1a0a6019b9af401193cd8d2a7ca90d5a4d2a06');
    assert.deepEqual(parseSuperEmpty(img), md);
  });

  it('a Virtual A/B layout: header 10.2 with the virtual-A/B flag, 3 slots, two groups (4ragaki/fastboot_ota_oneplus_xigua, 5288 bytes)', () => {
    let md = newSuperMetadata({
      size: 16106127360,
      metadataSlotCount: 3,
      headerFlags: HEADER_FLAG.virtualAbDevice,
      groups: [
        { name: 'qti_dynamic_partitions_a', maximumSize: 16101933056 },
        { name: 'qti_dynamic_partitions_b', maximumSize: 16101933056 },
      ],
    });
    const names = ['odm', 'product', 'system', 'system_dlkm', 'system_ext', 'vendor', 'vendor_dlkm'].flatMap(
      (n) => [`${n}_a`, `${n}_b`],
    );
    md = withPartitions(md, names, (n) => `qti_dynamic_partitions${n.slice(-2)}`, readonly);
    const img = encodeSuperEmpty(md);
    assert.equal(img.length, 5288);
    assert.equal(sha256(img), 'f562b6c75af6feb79f2a250743d84ed79922fe32a795899cf3f30b12b885b927');
  });

  it('a retrofit layout: three slot-suffixed block devices, slot-suffixed group and partitions (snnbyyds/PE-retrofit_dynamic_partitions-Migration, 4772 bytes)', () => {
    const base = newSuperMetadata({ size: 2998927360, superName: 'system', metadataSlotCount: 2 });
    let md: SuperMetadata = {
      ...base,
      groups: [
        ...base.groups,
        { name: 'oneplus_dynamic_partitions', flags: GROUP_FLAG.slotSuffixed, maximumSize: 4173332480 },
      ],
      blockDevices: [
        { ...base.blockDevices[0]!, flags: BLOCK_DEVICE_FLAG.slotSuffixed },
        ...[
          ['odm', 104857600],
          ['vendor', 1073741824],
        ].map(([partitionName, size]) => ({
          partitionName: partitionName as string,
          firstLogicalSector: 2048,
          alignment: 1048576,
          alignmentOffset: 0,
          size: size as number,
          flags: BLOCK_DEVICE_FLAG.slotSuffixed,
        })),
      ],
    };
    md = withPartitions(
      md,
      ['odm', 'product', 'system', 'system_ext', 'vendor'],
      () => 'oneplus_dynamic_partitions',
      readonly | slotSuffixed,
    );
    const img = encodeSuperEmpty(md);
    assert.equal(img.length, 4772);
    assert.equal(sha256(img), 'be3f0ad15b95aff988936b1e98391c1a9ee6cdabc376aa537251837f5af16165');
  });

  it('parsing a Buffer leaves the caller bytes untouched', () => {
    const img = Buffer.from(encodeSuperEmpty(newSuperMetadata({ size: 8 * 1024 * 1024 })));
    const before = sha256(img);
    parseSuperEmpty(img);
    assert.equal(sha256(img), before);
  });
});
