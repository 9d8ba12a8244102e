/** The engine's ADB adapter: the contract's errors become link-failure kinds, an unauthorized phone keeps its remedy. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AndroidCapableConnector, type OpenAdb } from '../../../main/flash/adapters/adb.js';
import { DeviceLinkError } from '../../../main/flash/ports.js';
import {
  type AdbConnection,
  AdbProtocolError,
  AdbUnauthorizedError,
} from '../../../main/protocol/adb/contract.js';
import { OpenError } from '../../../main/transport/index.js';
import { FakeConnector } from './fake-device.js';

const signal = new AbortController().signal;

function connection(calls: string[]): AdbConnection {
  return {
    description: 'adb 127.0.0.1:5555',
    banner: { state: 'device', properties: {}, features: ['shell_v2'] },
    shell: async (command) => {
      calls.push(`shell ${command}`);
      return { exitCode: 0, stdout: '1\n', stderr: '' };
    },
    getprops: async () => new Map([['ro.serialno', 'P1']]),
    getprop: async () => 'P1',
    reboot: async (target) => {
      calls.push(`reboot ${target}`);
    },
    close: async () => undefined,
  };
}

function connector(open: OpenAdb) {
  return new AndroidCapableConnector(new FakeConnector(), { open, keyDir: '/nonexistent' });
}

async function linkError(p: Promise<unknown>): Promise<DeviceLinkError> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof DeviceLinkError, String(err));
    return err;
  }
  assert.fail('expected a DeviceLinkError');
}

describe('ADB adapter', () => {
  it('opens a session: state, props, shell, reboot', async () => {
    const calls: string[] = [];
    const s = await connector(async () => connection(calls)).connectAndroid('adb:127.0.0.1:5555', { signal });
    assert.equal(s.state, 'device');
    assert.equal((await s.props({ signal })).get('ro.serialno'), 'P1');
    assert.deepEqual(await s.shell('echo 1', { signal }), { exitCode: 0, stdout: '1\n' });
    await s.reboot('bootloader', { signal });
    assert.deepEqual(calls, ['shell echo 1', 'reboot bootloader']);
    const bad = await linkError(s.reboot('moon', { signal }));
    assert.equal(bad.kind, 'device-fail');
    await s.close();
  });

  it('an unauthorized phone is kind unauthorized with the remedy', async () => {
    const err = await linkError(
      connector(async () => {
        throw new AdbUnauthorizedError('adb 127.0.0.1:5555', 'aa:bb');
      }).connectAndroid('adb:127.0.0.1:5555', { signal }),
    );
    assert.equal(err.kind, 'unauthorized');
    assert.match(err.remedy ?? '', /Allow USB debugging.*aa:bb/);
    assert.equal(err.retryable, false);
  });

  it('nothing listening is disconnected (retryable); a bad packet is protocol', async () => {
    const closed = await linkError(
      connector(async () => {
        throw new OpenError('connection refused');
      }).connectAndroid('adb:127.0.0.1:1', { signal }),
    );
    assert.equal(closed.kind, 'disconnected');
    const garbled = await linkError(
      connector(async () => {
        throw new AdbProtocolError('bad magic');
      }).connectAndroid('adb:127.0.0.1:1', { signal }),
    );
    assert.equal(garbled.kind, 'protocol');
  });
});
