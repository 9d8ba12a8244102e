/** The renderer's API client logic that does not need a browser: token handling, link state, device list. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DeviceInfo } from '../../../main/devices/device-info.js';
import { connectionFromWs } from '../../../renderer/src/api/connection.js';
import { applyDeviceEvent, applyDeviceEvents } from '../../../renderer/src/api/device-list.js';
import { stationApiUrl, takeStationToken } from '../../../renderer/src/api/token.js';

describe('station token', () => {
  test('taken from the URL, removed from it, other parameters kept', () => {
    assert.deepEqual(takeStationToken('http://127.0.0.1:7480/?token=abc&x=1#h', null), {
      token: 'abc',
      cleanUrl: '/?x=1#h',
    });
    assert.deepEqual(takeStationToken('http://127.0.0.1:7480/?token=new', 'old'), {
      token: 'new',
      cleanUrl: '/',
    });
  });

  test('falls back to the session, or to nothing', () => {
    assert.deepEqual(takeStationToken('http://127.0.0.1:7480/', 'kept'), { token: 'kept', cleanUrl: null });
    assert.deepEqual(takeStationToken('http://127.0.0.1:7480/', null), { token: null, cleanUrl: null });
    assert.deepEqual(takeStationToken('http://127.0.0.1:7480/?token=', null), { token: null, cleanUrl: '/' });
  });

  test('the API URL follows the page origin and escapes the token', () => {
    assert.equal(
      stationApiUrl('http://127.0.0.1:7480/x', 'a+b/c'),
      'ws://127.0.0.1:7480/api?token=a%2Bb%2Fc',
    );
    assert.equal(stationApiUrl('https://[::1]:9/', 't'), 'wss://[::1]:9/api?token=t');
  });
});

describe('connection indicator', () => {
  test('maps the WebSocket state', () => {
    assert.equal(connectionFromWs({ state: 'pending', error: null }, false).state, 'connected');
    assert.equal(connectionFromWs({ state: 'connecting', error: null }, false).state, 'connecting');
    assert.equal(connectionFromWs({ state: 'connecting', error: null }, true).state, 'reconnecting');
    assert.equal(
      connectionFromWs({ state: 'connecting', error: { message: 'x' } }, true).state,
      'reconnecting',
    );
    const refused = connectionFromWs({ state: 'connecting', error: { message: 'closed' } }, false);
    assert.equal(refused.state, 'disconnected');
    assert.match(refused.detail ?? '', /flashline station/);
    assert.equal(connectionFromWs({ state: 'idle', error: null }, true).state, 'disconnected');
  });
});

describe('device list', () => {
  const a: DeviceInfo = { id: 'a', connection: 'usb', address: '1-1', mode: 'fastboot', state: 'ready' };
  const b: DeviceInfo = { id: 'b', connection: 'tcp', address: 'h:1', mode: 'fastboot', state: 'ready' };

  test('added, changed, removed', () => {
    let list = applyDeviceEvent([], { type: 'added', device: b });
    list = applyDeviceEvent(list, { type: 'added', device: a });
    assert.deepEqual(
      list.map((d) => d.id),
      ['a', 'b'],
    );
    list = applyDeviceEvent(list, { type: 'changed', device: { ...a, state: 'busy' } });
    assert.equal(list[0]?.state, 'busy');
    list = applyDeviceEvent(list, { type: 'removed', id: 'a' });
    assert.deepEqual(list, [b]);
    assert.deepEqual(applyDeviceEvent(list, { type: 'removed', id: 'zzz' }), [b]);
  });

  test('replaying events already in a snapshot changes nothing', () => {
    const snapshot = [a, b];
    const replay = applyDeviceEvents(snapshot, [
      { type: 'added', device: a },
      { type: 'removed', id: 'c' },
    ]);
    assert.deepEqual(replay, snapshot);
  });
});
