import assert from 'node:assert/strict';
import { buffer } from 'node:stream/consumers';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  encodeImageHeader,
  IMAGE_HEADER_SIZE,
  makeVirtualImage,
  parseImageHeader,
} from '../../../virtual-device/image-metadata.js';

test('header round-trips any valid version and rollback index', () => {
  fc.assert(
    fc.property(
      fc.stringMatching(/^[\x21-\x7e]{1,64}$/),
      fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
      (version, rollbackIndex) => {
        const header = encodeImageHeader({ version, rollbackIndex });
        assert.equal(header.byteLength, IMAGE_HEADER_SIZE);
        assert.deepEqual(parseImageHeader(header), { version, rollbackIndex });
      },
    ),
  );
});

test('bytes without the header parse as null (the device then boots version unknown)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 5000 }), (bytes) => {
      const text = Buffer.from(bytes).toString('latin1');
      fc.pre(!text.startsWith('FLASHLINE-VIRTUAL-IMAGE v1\n'));
      assert.equal(parseImageHeader(bytes), null);
    }),
  );
  assert.equal(parseImageHeader(Buffer.from('FLASHLINE-VIRTUAL-IMAGE v1\nversion=1\n')), null);
  assert.equal(
    parseImageHeader(Buffer.from('FLASHLINE-VIRTUAL-IMAGE v1\nversion=1\nrollback-index=-1\n')),
    null,
  );
});

test('invalid metadata is rejected with a reason', () => {
  assert.throws(() => encodeImageHeader({ version: 'has space', rollbackIndex: 0 }), /printable/);
  assert.throws(() => encodeImageHeader({ version: '1', rollbackIndex: -1 }), /non-negative/);
  assert.throws(() => makeVirtualImage({ version: '1', rollbackIndex: 0, size: 100 }), /at least 4096/);
});

test('makeVirtualImage has the requested size, the header, and a deterministic payload', async () => {
  const a = await buffer(makeVirtualImage({ version: '2.0.0', rollbackIndex: 7, size: 3 * 1024 * 1024 + 5 }));
  const b = await buffer(makeVirtualImage({ version: '2.0.0', rollbackIndex: 7, size: 3 * 1024 * 1024 + 5 }));
  const c = await buffer(
    makeVirtualImage({ version: '2.0.0', rollbackIndex: 7, size: 3 * 1024 * 1024 + 5, seed: 'x' }),
  );
  assert.equal(a.byteLength, 3 * 1024 * 1024 + 5);
  assert.deepEqual(parseImageHeader(a), { version: '2.0.0', rollbackIndex: 7 });
  assert.ok(a.equals(b));
  assert.ok(!a.subarray(IMAGE_HEADER_SIZE).equals(c.subarray(IMAGE_HEADER_SIZE)));
  // The payload is not a constant pattern.
  assert.notEqual(a.subarray(IMAGE_HEADER_SIZE, IMAGE_HEADER_SIZE + 64).toString('hex'), '00'.repeat(64));
});
