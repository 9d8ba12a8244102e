import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { describe, it } from 'node:test';
import { OpenError, openLink, openTcp, parseDeviceId } from '../../../main/transport/index.js';

describe('device ids and TCP open', () => {
  it('parses the ids the registry shows', () => {
    assert.deepEqual(parseDeviceId('tcp:127.0.0.1:5555'), { kind: 'tcp', host: '127.0.0.1', port: 5555 });
    assert.deepEqual(parseDeviceId('tcp:[::1]:7'), { kind: 'tcp', host: '::1', port: 7 });
    assert.deepEqual(parseDeviceId('tcp:phone.local'), { kind: 'tcp', host: 'phone.local', port: 5554 });
    assert.deepEqual(parseDeviceId('serial:/dev/ttyACM0'), { kind: 'serial', path: '/dev/ttyACM0' });
    assert.deepEqual(parseDeviceId('usb:ABC123'), { kind: 'usb', serial: 'ABC123' });
    assert.deepEqual(parseDeviceId('usb:18d1:4ee0'), {
      kind: 'usb-ids',
      vendorId: 0x18d1,
      productId: 0x4ee0,
    });
    for (const bad of ['', 'tcp:', 'tcp:host:99999', 'ftp:x', 'serial:', 'usb:']) {
      assert.throws(
        () => parseDeviceId(bad),
        (e: unknown) => e instanceof OpenError && /tcp:HOST:PORT/.test(e.message),
      );
    }
  });

  it('reports a refused connection as OpenError saying what to check', async () => {
    const server = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    server.close();
    await new Promise((r) => server.once('close', r));
    await assert.rejects(
      openTcp({ host: '127.0.0.1', port }),
      (e: unknown) => e instanceof OpenError && /ECONNREFUSED/.test(e.message),
    );
  });

  it('refuses a TCP peer that is not fastboot, and closes the socket', async () => {
    let closed!: Promise<void>;
    const server = createServer((s) => {
      closed = new Promise((r) => s.on('close', () => r()));
      s.on('error', () => {});
      s.resume(); // a paused socket never notices the peer's FIN
      s.write('SSH-2.0-OpenSSH\r\n');
    }).listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const { port } = server.address() as { port: number };
    await assert.rejects(
      openLink(`tcp:127.0.0.1:${port}`),
      (e: unknown) => e instanceof OpenError && /SSH-/.test(e.message),
    );
    await closed;
    server.close();
  });
});
