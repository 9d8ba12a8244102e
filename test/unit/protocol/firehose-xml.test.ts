/** Firehose XML codec, stream framing, sector expressions, rawprogram/patch parsing and GPT. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildXml,
  encodeGpt,
  FirehoseProtocolError,
  FirehoseReader,
  parseGptEntries,
  parseGptHeader,
  parsePatches,
  parseRawprogram,
  parseXml,
  resolveSector,
  XmlFormatError,
} from '../../../main/protocol/firehose/index.js';
import { createDuplexPair, streamLink } from '../../../main/transport/index.js';

const name = fc.stringMatching(/^[A-Za-z_][A-Za-z0-9_]{0,12}$/);
const element = fc.record({
  tag: name,
  attrs: fc.dictionary(name, fc.string({ maxLength: 20 }), { maxKeys: 5 }),
});

describe('Firehose XML', () => {
  it('round-trips flat documents, whatever the attribute text', () => {
    fc.assert(
      fc.property(fc.array(element, { maxLength: 5 }), (children) => {
        const doc = parseXml(buildXml(children));
        assert.equal(doc.root, 'data');
        assert.deepEqual(
          doc.children.map((c) => ({ tag: c.tag, attrs: { ...c.attrs } })),
          children.map((c) => ({ tag: c.tag, attrs: { ...c.attrs } })),
        );
      }),
    );
  });

  it('parses a real-looking reply and refuses what is not flat Firehose XML', () => {
    const doc = parseXml(
      '<?xml version="1.0" encoding="UTF-8" ?>\n<data>\n<!-- c --><log value="INFO: a &amp; b"/>\n<response value="ACK" rawmode="true" /></data>',
    );
    assert.deepEqual(
      doc.children.map((c) => c.tag),
      ['log', 'response'],
    );
    assert.equal(doc.children[0]!.attrs.value, 'INFO: a & b');
    for (const bad of [
      '<data><a><b/></a></data>',
      '<data>text</data>',
      '<data><a x="1" x="2"/></data>',
      '<data><a x="&bogus;"/></data>',
      '<data>',
      '<data></data>junk',
    ]) {
      assert.throws(() => parseXml(bad), XmlFormatError, bad);
    }
  });

  it('resolves NUM_DISK_SECTORS-N. and plain sectors', () => {
    assert.equal(resolveSector('NUM_DISK_SECTORS-5.', 1000), 995);
    assert.equal(resolveSector('34', 1000), 34);
    assert.equal(resolveSector('6.', 1000), 6);
    assert.throws(() => resolveSector('NUM_DISK_SECTORS-5000.', 1000), RangeError);
    assert.throws(() => resolveSector('CRC32(1,2)', 1000), RangeError);
  });

  it('reads rawprogram and DISK patches with validation', () => {
    const rp = parseRawprogram(
      '<?xml version="1.0" ?><data><program SECTOR_SIZE_IN_BYTES="4096" file_sector_offset="0" filename="gpt_main0.bin" label="PrimaryGPT" num_partition_sectors="6" physical_partition_number="0" start_sector="0"/><program SECTOR_SIZE_IN_BYTES="4096" filename="gpt_backup0.bin" label="BackupGPT" num_partition_sectors="5" physical_partition_number="0" start_sector="NUM_DISK_SECTORS-5."/></data>',
    );
    assert.equal(rp.length, 2);
    assert.equal(rp[1]!.startSector, 'NUM_DISK_SECTORS-5.');
    const patches = parsePatches(
      '<patches><patch SECTOR_SIZE_IN_BYTES="4096" byte_offset="16" filename="gpt_main0.bin" physical_partition_number="0" size_in_bytes="4" start_sector="1" value="0"/><patch SECTOR_SIZE_IN_BYTES="4096" byte_offset="88" filename="DISK" physical_partition_number="0" size_in_bytes="4" start_sector="1" value="CRC32(2,16384)"/></patches>',
    );
    assert.deepEqual(
      patches.map((p) => p.value),
      ['CRC32(2,16384)'],
    );
    assert.throws(
      () => parseRawprogram('<data><program label="x" start_sector="0"/></data>'),
      XmlFormatError,
    );
  });

  it('splits documents on a stream and pushes back raw data', async () => {
    const [a, b] = createDuplexPair();
    const host = streamLink(a, 'host');
    const reader = new FirehoseReader(host);
    const doc1 = buildXml([{ tag: 'response', attrs: { value: 'ACK', rawmode: 'true' } }]);
    b.write(
      Buffer.concat([Buffer.from(doc1.slice(0, 10)), Buffer.from(doc1.slice(10)), Buffer.from([1, 2, 3, 4])]),
    );
    assert.equal(await reader.nextDocument({ timeoutMs: 1000 }), doc1);
    assert.deepEqual([...(await reader.readRaw(4, { timeoutMs: 1000 }))], [1, 2, 3, 4]);
    b.write(Buffer.from('garbage that is not xml'));
    await assert.rejects(reader.nextDocument({ timeoutMs: 1000 }), FirehoseProtocolError);
    await host.close();
  });

  it('lays out and reads back a GPT', () => {
    const parts = [
      { label: 'xbl', firstLba: 16, lastLba: 31 },
      { label: 'boot', firstLba: 32, lastLba: 99 },
    ];
    const { primary } = encodeGpt(4096, 200, parts);
    const hdr = parseGptHeader(primary.subarray(4096, 8192));
    assert.deepEqual(parseGptEntries(primary.subarray(hdr.entriesLba * 4096), hdr), parts);
  });
});
