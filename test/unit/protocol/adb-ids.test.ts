import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADB_TCP_PORT, OpenError, openLink, parseDeviceId } from '../../../main/transport/index.js';

describe('adb: device ids', () => {
  it('parses adb:HOST:PORT with 5555 as the default port', () => {
    assert.deepEqual(parseDeviceId('adb:127.0.0.1:5557'), { kind: 'adb', host: '127.0.0.1', port: 5557 });
    assert.deepEqual(parseDeviceId('adb:[::1]:7'), { kind: 'adb', host: '::1', port: 7 });
    assert.deepEqual(parseDeviceId('adb:phone.local'), {
      kind: 'adb',
      host: 'phone.local',
      port: ADB_TCP_PORT,
    });
    for (const bad of ['adb:', 'adb:host:0', 'adb:host:70000']) {
      assert.throws(
        () => parseDeviceId(bad),
        (e: unknown) => e instanceof OpenError && /adb:HOST:PORT/.test(e.message),
      );
    }
  });

  it('does not open an ADB endpoint as a fastboot link', async () => {
    await assert.rejects(
      openLink('adb:127.0.0.1:5555'),
      (e: unknown) => e instanceof OpenError && /bootloader/.test(e.message),
    );
  });
});
