/** How tuf-js failures become status codes, including the ones tuf-js rewraps as plain runtime errors. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { UnsignedMetadataError } from '@tufjs/models/dist/error.js';
import { BadVersionError, DownloadHTTPError, RuntimeError } from 'tuf-js/dist/error.js';
import { repoRefusal } from '../../../main/repo/refusals.js';

const code = (err: unknown) => repoRefusal('http://repo.test', err).code;

describe('repository refusals', () => {
  it('maps tuf-js errors onto the 1x/2x table', () => {
    assert.equal(code(new BadVersionError('New timestamp version 1 is less than current version 2')), 26);
    assert.equal(code(new UnsignedMetadataError('timestamp was signed by 0/1 keys')), 23);
    assert.equal(code(new DownloadHTTPError('Failed to download', 404)), 10);
    assert.equal(code(new DOMException('The operation was aborted due to timeout', 'TimeoutError')), 10);
    assert.equal(code(Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' })), 10);
    assert.equal(code(new SyntaxError('Unexpected token } in JSON')), 21);
  });

  it('recognises wrapped snapshot and targets failures by tuf-js own messages', () => {
    const wrapped = (inner: string) =>
      new RuntimeError(`Unable to load snapshot metadata error Error: ${inner}`);
    assert.equal(code(wrapped('snapshot.json is expired')), 25);
    assert.equal(code(wrapped("Snapshot version doesn't match timestamp")), 26);
    assert.equal(code(wrapped('snapshot was signed by 0/1 keys')), 23);
    assert.equal(code(wrapped('Expected length 381 but got 380')), 28);
    assert.equal(code(wrapped('something new')), 21);
  });

  it('says what happened and what to do, without a stack', () => {
    const err = repoRefusal('http://repo.test', new BadVersionError('older'));
    assert.match(
      err.message,
      /^Repository http:\/\/repo\.test: it offers older metadata .* Nothing was written/,
    );
    assert.doesNotMatch(err.message, /\n\s+at /);
  });
});
