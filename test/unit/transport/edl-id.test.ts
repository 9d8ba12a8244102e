/** `edl:HOST:PORT` ids: parsed beside the others, refused as fastboot links, opened as raw streams. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  EDL_TCP_PORT,
  OpenError,
  openLink,
  openStreamLink,
  parseDeviceId,
} from '../../../main/transport/index.js';

describe('edl: device ids', () => {
  it('parses host and port, with 9008 by default', () => {
    assert.deepEqual(parseDeviceId('edl:127.0.0.1:19008'), { kind: 'edl', host: '127.0.0.1', port: 19008 });
    assert.deepEqual(parseDeviceId('edl:[::1]'), { kind: 'edl', host: '::1', port: EDL_TCP_PORT });
    assert.throws(() => parseDeviceId('edl:'), OpenError);
  });

  it('is not a fastboot link, and fastboot ids are not EDL stream links', async () => {
    await assert.rejects(
      openLink('edl:127.0.0.1:1'),
      (e: unknown) => e instanceof OpenError && /EDL/.test(e.message),
    );
    await assert.rejects(openStreamLink('tcp:127.0.0.1:1'), OpenError);
  });
});
