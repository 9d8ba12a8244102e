/** The status code a rescue failure ends with, by error and stage (the CLI's exit code, the API's status). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FlashlineError } from '../../../main/common/errors.js';
import { rescueStatusOf } from '../../../main/flash/rescue/report.js';
import { FirehoseNakError, StorageDetectError } from '../../../main/protocol/firehose/index.js';
import { ProgrammerRefusedError, SaharaStatusError } from '../../../main/protocol/sahara/index.js';
import { DisconnectedError, TimeoutError } from '../../../main/transport/errors.js';

describe('rescue status codes', () => {
  it('maps each failure to its decade and sub-code', () => {
    const nak = new FirehoseNakError('program', ['ERROR: write failed']);
    const cases: [unknown, Parameters<typeof rescueStatusOf>[1], number][] = [
      [new FlashlineError(28, 'tampered'), 'verify', 28],
      [new ProgrammerRefusedError('signed for another key'), 'programmer', 27],
      [new SaharaStatusError('the programmer', 0x25), 'programmer', 27],
      [new StorageDetectError(['ufs', 'emmc'], []), 'programmer', 36],
      [nak, 'program', 31],
      [nak, 'patch', 34],
      [nak, 'bootable', 34],
      [nak, 'backup', 30],
      [new DisconnectedError('gone'), 'program', 11],
      [new TimeoutError('read', 10), 'identify', 12],
      [Object.assign(new Error('disk full'), { code: 'ENOSPC' }), 'backup', 19],
      [new TypeError('a programmer file is needed'), 'backup', 10],
      [new Error('anything else'), 'program', 10],
    ];
    for (const [err, stage, code] of cases)
      assert.equal(rescueStatusOf(err, stage), code, `${(err as Error).message} at ${stage}`);
  });
});
