import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AdbProtocolError } from '../../../main/protocol/adb/contract.js';
import {
  ADB_COMMANDS,
  ADB_HEADER_LENGTH,
  type AdbCommand,
  type AdbMessage,
  AdbMessageParser,
  adbChecksum,
  decodeHeader,
  encodeMessage,
  formatBanner,
  parseBanner,
} from '../../../main/protocol/adb/wire.js';

const commands = Object.keys(ADB_COMMANDS) as AdbCommand[];
const message = fc.record({
  command: fc.constantFrom(...commands),
  arg0: fc.nat({ max: 0xffffffff }),
  arg1: fc.nat({ max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 600 }),
});

function feed(parser: AdbMessageParser, bytes: Uint8Array, cuts: number[]): AdbMessage[] {
  const out: AdbMessage[] = [];
  let offset = 0;
  let i = 0;
  while (offset < bytes.byteLength) {
    const size = cuts[i++ % cuts.length]!;
    out.push(...parser.push(bytes.subarray(offset, offset + size)));
    offset += size;
  }
  return out;
}

describe('ADB wire codec', () => {
  it('round-trips any message sequence whatever the chunking', () => {
    fc.assert(
      fc.property(
        fc.array(message, { maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 10 }),
        fc.boolean(),
        (messages, cuts, verify) => {
          const stream = Buffer.concat(messages.map(encodeMessage));
          const parser = new AdbMessageParser(1024, verify);
          const got = feed(parser, stream, cuts);
          assert.deepEqual(
            got.map((m) => ({ ...m, payload: Buffer.from(m.payload) })),
            messages.map((m) => ({ ...m, payload: Buffer.from(m.payload) })),
          );
          assert.equal(parser.pending, 0);
        },
      ),
    );
  });

  it('writes the header as protocol.txt describes it', () => {
    const bytes = encodeMessage({
      command: 'OPEN',
      arg0: 1,
      arg1: 0,
      payload: new TextEncoder().encode('shell:\0'),
    });
    const view = new DataView(bytes.buffer);
    assert.equal(Buffer.from(bytes.subarray(0, 4)).toString('latin1'), 'OPEN');
    assert.equal(view.getUint32(12, true), 7);
    assert.equal(view.getUint32(16, true), adbChecksum(new TextEncoder().encode('shell:\0')));
    assert.equal(view.getUint32(20, true), (ADB_COMMANDS.OPEN ^ 0xffffffff) >>> 0);
  });

  it('rejects a header with a damaged magic or command', () => {
    fc.assert(
      fc.property(
        message,
        fc.integer({ min: 0, max: 23 }),
        fc.integer({ min: 1, max: 255 }),
        (msg, at, flip) => {
          const header = encodeMessage({ ...msg, payload: new Uint8Array(0) }).slice(0, ADB_HEADER_LENGTH);
          // Bytes 4..19 (args, length, checksum) are not covered by the magic; damage command or magic only.
          const index = at < 12 ? at % 4 : 20 + (at % 4);
          header[index]! ^= flip;
          assert.throws(() => decodeHeader(header, 1 << 20), AdbProtocolError);
        },
      ),
    );
  });

  it('rejects a payload longer than the agreed maximum before reading it', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 4096 }), fc.integer({ min: 1, max: 100_000 }), (max, extra) => {
        const header = encodeMessage({ command: 'WRTE', arg0: 1, arg1: 2, payload: new Uint8Array(0) });
        new DataView(header.buffer).setUint32(12, max + extra, true);
        assert.throws(() => new AdbMessageParser(max).push(header), /more than the agreed maximum/);
      }),
    );
  });

  it('verifies the checksum only when the version requires it', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 1, maxLength: 200 }),
        fc.integer({ min: 1, max: 255 }),
        (payload, delta) => {
          const bytes = encodeMessage({ command: 'WRTE', arg0: 1, arg1: 2, payload });
          const view = new DataView(bytes.buffer);
          view.setUint32(16, (view.getUint32(16, true) + delta) >>> 0, true);
          assert.throws(() => new AdbMessageParser(1 << 20, true).push(bytes), /checksum/);
          assert.equal(new AdbMessageParser(1 << 20, false).push(bytes).length, 1);
        },
      ),
    );
  });

  it('parses and formats banners', () => {
    const text = formatBanner('device', { 'ro.product.name': 'p', 'ro.product.model': 'M 1' }, [
      'shell_v2',
      'cmd',
    ]);
    assert.equal(text, 'device::ro.product.name=p;ro.product.model=M 1;features=shell_v2,cmd');
    assert.deepEqual(parseBanner(`${text}\0`), {
      state: 'device',
      properties: { 'ro.product.name': 'p', 'ro.product.model': 'M 1' },
      features: ['shell_v2', 'cmd'],
    });
    assert.deepEqual(parseBanner('recovery::'), { state: 'recovery', properties: {}, features: [] });
  });
});
