/** The serial path: a real pty pair made by socat; the host opens its end with serialport. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { test } from 'node:test';
import { SerialPort } from 'serialport';
import { image, KiB, startSmallDevice } from '../../unit/virtual-device/helpers/fixtures.js';
import { MiniClient } from '../../unit/virtual-device/helpers/mini-client.js';

async function openHost(path: string): Promise<MiniClient> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false, lock: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const c = new MiniClient(port);
  await c.handshake();
  return c;
}

test('fastboot over a pty: getvar, download, flash, oem sha256, reboot and reconnect', async (t) => {
  const vd = await startSmallDevice(t, { pty: true });
  assert.ok(vd.ptyPath);
  assert.match(vd.address, /^serial:/);
  let c = await openHost(vd.ptyPath);
  assert.equal(await c.getvar('current-slot'), 'a');
  const img = await image('2.0.0', 1, 200 * KiB);
  await c.flashBytes('boot_b', img);
  assert.equal(await c.sha256('boot_b'), createHash('sha256').update(img).digest('hex'));
  await c.okay('set_active:b');
  const up = once(vd, 'up');
  await c.okay('reboot');
  c.close();
  await up;
  c = await openHost(vd.ptyPath);
  assert.equal(await c.getvar('running-version'), '2.0.0');
  await c.okay('oem mark-successful');
  assert.equal(await c.getvar('rollback-index'), '1');
  c.close();
});
