import assert from 'node:assert/strict';
import { createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  AdbKeyFormatError,
  adbKeyFingerprint,
  adbPublicKeyBlob,
  decodeAndroidPublicKey,
  encodeAndroidPublicKey,
  formatAdbPublicKey,
  signAdbToken,
  verifyAdbToken,
} from '../../../main/protocol/adb/keys.js';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const other = generateKeyPairSync('rsa', { modulusLength: 2048 });

describe('ADB keys', () => {
  it("encodes Android's 524-byte public key struct and decodes it back", () => {
    const blob = encodeAndroidPublicKey(publicKey);
    assert.equal(blob.byteLength, 524);
    const view = new DataView(blob.buffer);
    assert.equal(view.getUint32(0, true), 64);
    // n0inv * n[0] = -1 (mod 2^32)
    assert.equal(Math.imul(view.getUint32(4, true), view.getUint32(8, true)) >>> 0, 0xffffffff);
    assert.equal(view.getUint32(520, true), 65537);
    const back = decodeAndroidPublicKey(blob);
    assert.deepEqual(back.export({ format: 'jwk' }), publicKey.export({ format: 'jwk' }));
  });

  it('formats adbkey.pub lines and shows the fingerprint as the phone does', () => {
    const line = formatAdbPublicKey(publicKey, 'tech@bench');
    assert.match(line, /^[A-Za-z0-9+/]+=* tech@bench$/);
    assert.equal(adbPublicKeyBlob(line).byteLength, 524);
    assert.match(adbKeyFingerprint(line), /^([0-9A-F]{2}:){15}[0-9A-F]{2}$/);
    assert.notEqual(adbKeyFingerprint(line), adbKeyFingerprint(formatAdbPublicKey(other.publicKey, 'x')));
    assert.throws(() => adbPublicKeyBlob('not a key'), AdbKeyFormatError);
    assert.throws(() => adbPublicKeyBlob(Buffer.alloc(100).toString('base64')), AdbKeyFormatError);
  });

  it('refuses keys that are not RSA-2048', () => {
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 });
    assert.throws(() => encodeAndroidPublicKey(small.publicKey), AdbKeyFormatError);
  });

  it('signs tokens so that only the matching key verifies them', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (token) => {
        const sig = signAdbToken(privateKey, token);
        assert.equal(sig.byteLength, 256);
        assert.ok(verifyAdbToken(decodeAndroidPublicKey(encodeAndroidPublicKey(publicKey)), token, sig));
        assert.ok(!verifyAdbToken(other.publicKey, token, sig));
        const changed = Uint8Array.from(token);
        changed[0]! ^= 1;
        assert.ok(!verifyAdbToken(publicKey, changed, sig));
      }),
      { numRuns: 20 },
    );
    assert.ok(!verifyAdbToken(publicKey, randomBytes(20), randomBytes(256)));
  });

  it('signs as PKCS#1 v1.5 over a SHA-1 DigestInfo (what adbd checks with RSA_verify(NID_sha1))', () => {
    // The token stands for a SHA-1 digest: signing the digest of a message must equal a standard
    // RSASSA-PKCS1-v1_5/SHA-1 signature of that message.
    const message = Buffer.from('flashline');
    const digest = createHash('sha1').update(message).digest();
    assert.ok(verify('sha1', message, publicKey, signAdbToken(privateKey, digest)));
  });
});
