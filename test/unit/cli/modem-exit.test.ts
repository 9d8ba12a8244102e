/** `flashline modem` exit codes follow docs/status-codes.md (no new codes). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { modemExitCode } from '../../../main/cli/commands/modem.js';
import { NoModeSwitchError } from '../../../main/devices/modem-actions.js';
import { AtCommandError, AtProtocolError } from '../../../main/protocol/at/index.js';
import { DiagRefusedError } from '../../../main/protocol/diag/index.js';
import { OpenError, TimeoutError } from '../../../main/transport/index.js';

describe('modem exit codes', () => {
  it('maps each failure to its status code', () => {
    assert.equal(modemExitCode(new TimeoutError('x', 1)), 12);
    assert.equal(modemExitCode(new OpenError('x')), 15);
    assert.equal(modemExitCode(new AtProtocolError('AT', 'noise')), 17);
    assert.equal(modemExitCode(new NoModeSwitchError({ info: [] })), 27);
    assert.equal(modemExitCode(new AtCommandError('AT+ZCDRUN=E', { kind: 'error' }, 'ERROR')), 32);
    assert.equal(modemExitCode(new DiagRefusedError('the EDL switch', 'bad command')), 32);
    assert.equal(modemExitCode(new Error('bug')), 1);
  });
});
