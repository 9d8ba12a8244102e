import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  crc16X25,
  DIAG_EDL_SWITCH,
  DiagFrameDecoder,
  encodeDiagFrame,
} from '../../../main/protocol/diag/hdlc.js';

describe('DIAG HDLC codec', () => {
  it('CRC-16/X.25 matches the CRC catalogue check value and its residue', () => {
    assert.equal(crc16X25(new TextEncoder().encode('123456789')), 0x906e);
    assert.equal(crc16X25(new Uint8Array(0)), 0x0000);
    // Appending the CRC little-endian gives the X.25 "good frame" residue 0xF0B8 (before the final XOR: 0x0F47).
    const data = new TextEncoder().encode('123456789');
    const framed = Uint8Array.of(...data, 0x6e, 0x90);
    assert.equal(crc16X25(framed) ^ 0xffff, 0xf0b8);
  });

  it('escapes flag and escape bytes and ends with one flag', () => {
    const f = encodeDiagFrame(Uint8Array.of(0x7e, 0x7d, 0x01));
    assert.equal(f[f.length - 1], 0x7e);
    assert.deepEqual([...f.subarray(0, 4)], [0x7d, 0x5e, 0x7d, 0x5d]);
    assert.equal(f.subarray(0, -1).includes(0x7e), false);
  });

  it('frames the EDL switch 4B 65 01 00 with its CRC', () => {
    const f = encodeDiagFrame(DIAG_EDL_SWITCH);
    // fwupd's modem-manager plugin sends exactly these bytes (fu-mm-device.c, emergency_download[]).
    assert.deepEqual([...f], [0x4b, 0x65, 0x01, 0x00, 0x54, 0x0f, 0x7e]);
  });

  it('round-trips any payloads under any chunking, with or without a leading flag', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { maxLength: 4 }),
        fc.boolean(),
        fc.nat(),
        (payloads, lead, cut) => {
          const wire = Buffer.concat(
            payloads.map((p) =>
              Buffer.concat([lead ? Buffer.of(0x7e) : Buffer.alloc(0), encodeDiagFrame(p)]),
            ),
          );
          const at = cut % (wire.length + 1);
          const d = new DiagFrameDecoder();
          const frames = [...d.push(wire.subarray(0, at)), ...d.push(wire.subarray(at))];
          assert.deepEqual(
            frames.map((f) => (f.ok ? [...f.payload] : f.problem)),
            payloads.map((p) => [...p]),
          );
        },
      ),
    );
  });

  it('reports a corrupted frame', () => {
    const f = encodeDiagFrame(DIAG_EDL_SWITCH);
    f[1] = f[1]! ^ 0x01;
    const [r] = new DiagFrameDecoder().push(f);
    assert.equal(r?.ok, false);
  });
});
