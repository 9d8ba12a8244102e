import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { crc32 as zlibCrc32 } from 'node:zlib';
import fc from 'fast-check';
import {
  crc32Combine,
  crc32ExtendPattern,
  crc32ExtendZeros,
} from '../../../main/protocol/fastboot/sparse/crc32.js';

describe('sparse CRC32 arithmetic', () => {
  it('combine(crc(A), crc(B), |B|) equals crc(A‖B)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), fc.uint8Array({ maxLength: 600 }), (a, b) => {
        const whole = zlibCrc32(Buffer.concat([a, b]));
        assert.equal(crc32Combine(zlibCrc32(a), zlibCrc32(b), b.byteLength), whole);
      }),
      { numRuns: 300 },
    );
  });

  it('extending by a repeated pattern or zeros equals hashing the bytes', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ minLength: 4, maxLength: 4 }),
        fc.integer({ min: 0, max: 5000 }),
        (prefix, word, words) => {
          const filled = words === 0 ? Buffer.alloc(0) : Buffer.alloc(words * 4, Buffer.from(word));
          const start = zlibCrc32(prefix);
          assert.equal(crc32ExtendPattern(start, word, words * 4), zlibCrc32(filled, start));
          assert.equal(crc32ExtendZeros(start, words * 4), zlibCrc32(Buffer.alloc(words * 4), start));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('handles lengths beyond 32 bits without hashing them', () => {
    // 2^33 zero bytes = 2^20 copies of 8 KiB of zeros: check the doubling against a smaller doubling chain.
    const unit = zlibCrc32(Buffer.alloc(8192));
    let crc = unit;
    let len = 8192;
    while (len < 2 ** 33) {
      crc = crc32Combine(crc, crc, len);
      len *= 2;
    }
    assert.equal(crc32ExtendZeros(0, 2 ** 33), crc);
  });
});
