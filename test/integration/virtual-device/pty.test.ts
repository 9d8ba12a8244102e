/** The serial path: a real pty pair made by socat; the host opens its end with serialport. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { test } from 'node:test';
import { SerialPort } from 'serialport';
import { image, KiB, startSmallDevice } from '../../unit/virtual-device/helpers/fixtures.js';
import { MiniClient } from '../../unit/virtual-device/helpers/mini-client.js';

interface Host {
  readonly c: MiniClient;
  /** Close the port itself: serialport's destroy() leaves the fd open, and the device waits for the hang-up. */
  close(): Promise<void>;
}

async function openHost(path: string): Promise<Host> {
  const port = new SerialPort({ path, baudRate: 115200, autoOpen: false, lock: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  const c = new MiniClient(port);
  const close = () => new Promise<void>((resolve) => (port.isOpen ? port.close(() => resolve()) : resolve()));
  try {
    await c.handshake();
  } catch (err) {
    await close();
    throw err;
  }
  return { c, close };
}

test('fastboot over a pty: getvar, download, flash, oem sha256, reboot and reconnect', async (t) => {
  const vd = await startSmallDevice(t, { pty: true });
  assert.ok(vd.ptyPath);
  assert.match(vd.address, /^serial:/);
  let host = await openHost(vd.ptyPath);
  let c = host.c;
  assert.equal(await c.getvar('current-slot'), 'a');
  const img = await image('2.0.0', 1, 200 * KiB);
  await c.flashBytes('boot_b', img);
  assert.equal(await c.sha256('boot_b'), createHash('sha256').update(img).digest('hex'));
  await c.okay('set_active:b');
  const up = once(vd, 'up', { signal: AbortSignal.timeout(30_000) });
  await c.okay('reboot');
  await host.close();
  await up;
  host = await openHost(vd.ptyPath);
  c = host.c;
  assert.equal(await c.getvar('running-version'), '2.0.0');
  await c.okay('oem mark-successful');
  assert.equal(await c.getvar('rollback-index'), '1');
  await host.close();
});
