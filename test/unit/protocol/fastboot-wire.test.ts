import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  decodeResponse,
  encodeCommand,
  encodeResponse,
  WireFormatError,
} from '../../../main/protocol/fastboot/wire.js';

describe('fastboot response codec', () => {
  it('round-trips DATA sizes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (size) => {
        assert.deepEqual(decodeResponse(encodeResponse({ type: 'DATA', size })), { type: 'DATA', size });
      }),
    );
  });

  it('round-trips printable messages', () => {
    const printable = fc.string({ unit: fc.constantFrom(...'abcXYZ012 :_-.'.split('')), maxLength: 200 });
    fc.assert(
      fc.property(fc.constantFrom('OKAY', 'FAIL', 'INFO', 'TEXT' as const), printable, (type, message) => {
        assert.deepEqual(decodeResponse(encodeResponse({ type, message })), { type, message });
      }),
    );
  });

  it('rejects malformed packets with a typed error, never garbage', () => {
    for (const bad of ['OK', 'DATAxyz', 'DATA1234567g', 'NOPEfoo', 'X'.repeat(300)]) {
      assert.throws(() => decodeResponse(Buffer.from(bad)), WireFormatError, bad);
    }
  });

  it('bounds command length', () => {
    assert.throws(() => encodeCommand('x'.repeat(4097)), WireFormatError);
    assert.throws(() => encodeCommand(''), WireFormatError);
  });
});
