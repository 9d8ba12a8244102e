import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  encodeFrame,
  type FrameEvent,
  FrameParser,
  parseHandshake,
} from '../../../main/protocol/fastboot/tcp-framing.js';

function reassemble(events: FrameEvent[]): Uint8Array[] {
  const frames: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  for (const e of events) {
    if (e.kind === 'start') parts = [];
    else if (e.kind === 'data') parts.push(e.bytes.slice());
    else frames.push(Buffer.concat(parts));
  }
  return frames;
}

describe('fastboot TCP framing', () => {
  it('recovers every frame whatever the chunking (split and coalesced reads)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 8 }),
        fc.array(fc.integer({ min: 1, max: 64 }), { minLength: 1, maxLength: 20 }),
        (payloads, cuts) => {
          const stream = Buffer.concat(payloads.map(encodeFrame));
          const parser = new FrameParser();
          const events: FrameEvent[] = [];
          let offset = 0;
          let i = 0;
          while (offset < stream.length) {
            const size = cuts[i++ % cuts.length]!;
            events.push(...parser.push(stream.subarray(offset, offset + size)));
            offset += size;
          }
          assert.deepEqual(
            reassemble(events).map((b) => Buffer.from(b)),
            payloads.map((p) => Buffer.from(p)),
          );
          assert.equal(parser.remaining, -1);
        },
      ),
    );
  });

  it('refuses a frame over the limit instead of buffering it', () => {
    const parser = new FrameParser(10);
    assert.throws(() => [...parser.push(encodeFrame(new Uint8Array(11)))], /exceeds the limit/);
  });

  it('parses the handshake', () => {
    assert.equal(parseHandshake(Buffer.from('FB01')), 1);
    assert.equal(parseHandshake(Buffer.from('XB01')), null);
    assert.equal(parseHandshake(Buffer.from('FB0')), null);
  });
});
