/** Sahara codec: every packet round-trips; malformed headers and lengths are wire errors, never crashes. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  buildSimulatedProgrammer,
  decodeChipIdV3,
  decodeSahara,
  encodeSahara,
  looksLikeXml,
  type SaharaPacket,
  SaharaWireError,
  saharaStatusText,
  simulatedSigner,
} from '../../../main/protocol/sahara/index.js';

const u32 = fc.nat({ max: 0xffffffff });
const packet: fc.Arbitrary<SaharaPacket> = fc.oneof(
  fc.record({
    cmd: fc.constantFrom('hello' as const, 'helloResp' as const),
    version: u32,
    compatible: u32,
    value: u32,
    mode: u32,
  }),
  fc.record({
    cmd: fc.constant('readData' as const),
    image: u32,
    offset: fc.nat({ max: Number.MAX_SAFE_INTEGER }),
    length: u32,
  }),
  fc.record({ cmd: fc.constant('endOfImage' as const), image: u32, status: u32 }),
  fc.record({
    cmd: fc.constantFrom('done' as const, 'reset' as const, 'resetResp' as const, 'cmdReady' as const),
  }),
  fc.record({ cmd: fc.constant('doneResp' as const), status: u32 }),
  fc.record({ cmd: fc.constant('switchMode' as const), mode: u32 }),
  fc.record({ cmd: fc.constantFrom('execute' as const, 'executeData' as const), clientCommand: u32 }),
  fc.record({ cmd: fc.constant('executeResp' as const), clientCommand: u32, dataLength: u32 }),
);

describe('Sahara wire codec', () => {
  it('round-trips every packet (READ_DATA in both widths)', () => {
    fc.assert(
      fc.property(packet, fc.boolean(), (p, wide) => {
        assert.deepEqual(decodeSahara(encodeSahara(p, wide)), { ...p });
      }),
    );
  });

  it('uses the sizes of the reference tools', () => {
    assert.equal(
      encodeSahara({ cmd: 'hello', version: 2, compatible: 1, value: 1024, mode: 0 }).byteLength,
      0x30,
    );
    assert.equal(encodeSahara({ cmd: 'readData', image: 13, offset: 0, length: 0x34 }).byteLength, 0x14);
    assert.equal(
      encodeSahara({ cmd: 'readData', image: 13, offset: 0, length: 0x34 }, true).byteLength,
      0x20,
    );
    assert.equal(encodeSahara({ cmd: 'endOfImage', image: 13, status: 0 }).byteLength, 0x10);
    assert.equal(encodeSahara({ cmd: 'executeResp', clientCommand: 3, dataLength: 96 }).byteLength, 0x10);
    assert.deepEqual([...encodeSahara({ cmd: 'done' })], [5, 0, 0, 0, 8, 0, 0, 0]);
  });

  it('rejects arbitrary bytes only with SaharaWireError', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          decodeSahara(bytes);
        } catch (err) {
          assert.ok(err instanceof SaharaWireError, String(err));
        }
      }),
    );
  });

  it('names status codes and reads the v3 chip id record', () => {
    assert.match(saharaStatusText(0x25), /authentication/);
    assert.match(saharaStatusText(0x99), /unknown/);
    const rec = Buffer.alloc(48);
    rec.writeUInt32LE(0x1234, 36);
    rec.writeUInt16LE(0x51, 40);
    rec.writeUInt16LE(7, 42);
    assert.deepEqual(decodeChipIdV3(rec), { msmId: 0x1234, oemId: 0x51, modelId: 7 });
    assert.throws(() => decodeChipIdV3(new Uint8Array(10)), SaharaWireError);
  });

  it('spots XML and reads the simulated programmer signer', () => {
    assert.ok(looksLikeXml(new TextEncoder().encode('<?xml version')));
    assert.ok(!looksLikeXml(encodeSahara({ cmd: 'done' })));
    const hash = new Uint8Array(32).fill(7);
    assert.deepEqual(simulatedSigner(buildSimulatedProgrammer(hash)), hash);
    assert.equal(simulatedSigner(new Uint8Array(200)), null);
  });
});
