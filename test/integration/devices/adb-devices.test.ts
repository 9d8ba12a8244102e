/**
 * Devices over ADB against the virtual device's adbd (serveAdb) on real TCP sockets: `flashline devices
 * --adb` lists a phone in Android with its mode and authorization (and the remedy when this computer's key
 * is not allowed), and the registry reboots it to the bootloader through its ADB endpoint.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { adbSource } from '../../../main/devices/adb-endpoints.js';
import { rebootDevice } from '../../../main/devices/device-actions.js';
import { DeviceRegistry, startDiscovery } from '../../../main/devices/index.js';
import { type AdbListener, FakePhone, listenAdb } from '../adb/fake-phone.js';

const run = promisify(execFile);
const cli = new URL('../../../bin/flashline.js', import.meta.url).pathname;
const home = mkdtempSync(join(tmpdir(), 'flashline-adb-devices-'));
after(() => rmSync(home, { recursive: true, force: true }));

describe('devices over ADB', () => {
  const phone = new FakePhone();
  phone.props.set('ro.serialno', 'VIRT0001');
  phone.props.set('ro.product.device', 'flashline-virtual');
  phone.props.set('ro.build.version.incremental', '1.0.0');
  let allowed: AdbListener;
  let locked: AdbListener;
  before(async () => {
    allowed = await listenAdb(phone);
    locked = await listenAdb(phone, { authorizedKeys: [] });
  });
  after(async () => {
    await allowed.close();
    await locked.close();
  });

  it('flashline devices --adb lists the phone in Android, and an unauthorized one with the remedy', async () => {
    const args = [cli, 'devices', '--no-usb', '--no-list-serial', '--adb', `127.0.0.1:${allowed.port}`];
    const env = { ...process.env, FLASHLINE_HOME: home };
    const { stdout } = await run(
      process.execPath,
      [...args, '--adb', `127.0.0.1:${locked.port}`, '--adb', '127.0.0.1:1', '--json'],
      { env, timeout: 60_000 },
    );
    const byId = new Map(
      (JSON.parse(stdout) as { devices: Record<string, unknown>[] }).devices.map((d) => [d.id, d]),
    );
    assert.deepEqual(byId.get(`adb:127.0.0.1:${allowed.port}`), {
      id: `adb:127.0.0.1:${allowed.port}`,
      connection: 'tcp',
      address: `127.0.0.1:${allowed.port}`,
      mode: 'android',
      state: 'ready',
      authorization: 'authorized',
      serial: 'VIRT0001',
      product: 'flashline-virtual',
      version: '1.0.0',
      currentSlot: 'a',
    });
    const refused = byId.get(`adb:127.0.0.1:${locked.port}`);
    assert.equal(refused?.authorization, 'unauthorized');
    assert.match(String(refused?.note), /tap "Allow" on "Allow USB debugging\?"/);
    assert.equal(byId.get('adb:127.0.0.1:1')?.state, 'gone');

    const text = await run(process.execPath, [...args, '--adb', `127.0.0.1:${locked.port}`], {
      env,
      timeout: 60_000,
    });
    assert.match(text.stdout, /android\s+ready\s+usb-debugging=allowed/);
    assert.match(text.stdout, /usb-debugging=NOT ALLOWED[^\n]*\n\s+what to do: Unlock the phone/);
  });

  it('reboots the phone to the bootloader through its ADB endpoint', async () => {
    const registry = new DeviceRegistry();
    const discovery = await startDiscovery(registry, [
      adbSource([{ host: '127.0.0.1', port: allowed.port }], { keyDir: join(home, 'adb') }),
    ]);
    try {
      await discovery.settled();
      const id = `adb:127.0.0.1:${allowed.port}`;
      assert.equal(registry.get(id)?.state, 'ready');
      const after = await rebootDevice(registry, id, 'bootloader');
      assert.equal(after.state, 'identifying');
      assert.deepEqual(phone.reboots, ['bootloader']);
    } finally {
      discovery.stop();
    }
  });
});
