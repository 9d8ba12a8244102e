/** Identification over ADB, against a fake connection that follows main/protocol/adb/contract.ts. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { adbEndpoint } from '../../../main/devices/adb-endpoints.js';
import { adbMode, identifyAdb, probeAdbEndpoint } from '../../../main/devices/identify-adb.js';
import { AdbUnauthorizedError } from '../../../main/protocol/adb/contract.js';
import { fakeAdb } from './fake-adb.js';

const PROPS = {
  'ro.serialno': 'VD0001',
  'ro.product.device': 'flashline-virtual',
  'ro.build.version.incremental': '1.0.0',
  'ro.boot.slot_suffix': '_b',
};

describe('identification over ADB', () => {
  it('reads mode, serial, product, version and the slot without its underscore', async () => {
    assert.deepEqual(await identifyAdb(fakeAdb(PROPS)), {
      mode: 'android',
      serial: 'VD0001',
      product: 'flashline-virtual',
      version: '1.0.0',
      currentSlot: 'b',
    });
  });

  it('recovery comes from the banner; the banner names the product when the property is empty', async () => {
    const id = await identifyAdb(fakeAdb({ 'ro.serialno': 'X' }, 'recovery'));
    assert.deepEqual(id, { mode: 'recovery', serial: 'X', product: 'banner-device' });
    assert.equal(adbMode('sideload'), 'recovery');
    assert.equal(adbMode('offline'), 'unknown');
  });

  it('a probe lists an authorized phone as ready and closes the link', async () => {
    const conn = fakeAdb(PROPS);
    let asked: unknown;
    const endpoint = adbEndpoint(
      { host: '127.0.0.1', port: 5555 },
      {
        open: async (id, o) => {
          asked = { id, keyDir: o.keyDir.endsWith('adb'), authWaitMs: o.authWaitMs };
          return conn;
        },
      },
    );
    const info = await probeAdbEndpoint(endpoint, 2000);
    assert.deepEqual(asked, { id: 'adb:127.0.0.1:5555', keyDir: true, authWaitMs: 1000 });
    assert.equal(info.state, 'ready');
    assert.equal(info.authorization, 'authorized');
    assert.equal(info.mode, 'android');
    assert.ok(conn.closed);
  });

  it('an unauthorized phone is listed with the remedy, never waited on long', async () => {
    const endpoint = adbEndpoint(
      { host: '127.0.0.1', port: 5555 },
      {
        open: async () => {
          throw new AdbUnauthorizedError('adb 127.0.0.1:5555', 'AA:BB');
        },
      },
    );
    const info = await probeAdbEndpoint(endpoint, 2000);
    assert.equal(info.state, 'error');
    assert.equal(info.authorization, 'unauthorized');
    assert.match(info.note ?? '', /tap "Allow".*AA:BB/);
  });

  it('an endpoint that does not answer is gone, with the reason', async () => {
    const endpoint = adbEndpoint(
      { host: '127.0.0.1', port: 5555 },
      {
        open: async () => {
          throw new Error('connection refused');
        },
      },
    );
    const info = await probeAdbEndpoint(endpoint, 2000);
    assert.deepEqual({ state: info.state, note: info.note }, { state: 'gone', note: 'connection refused' });
  });
});
