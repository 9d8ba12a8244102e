/**
 * EDL devices in the registry: identified in Sahara command mode once per appearance (the ROM stays ready
 * for the upload), over TCP (`edl:HOST:PORT`) and over a real pty that appears after the source started.
 */
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeviceRegistry, edlSource, startDiscovery } from '../../../main/devices/index.js';
import { EdlDeviceHandle } from '../../../virtual-device/edl/edl-device.js';
import { until } from './registry-wait.js';

/** Every host session the device served (ended by the host hanging up, or by a reset). */
const sessions = (device: EdlDeviceHandle) => device.history;

describe('edlSource (qualcomm-edl virtual device)', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('lists edl:HOST:PORT in mode edl with serial, MSM HW id and OEM PK hash, identified once', async () => {
    const device = await EdlDeviceHandle.start({ storage: 'emmc', serialNumber: 0x1234abcd });
    cleanups.push(() => device.stop());
    const registry = new DeviceRegistry();
    const discovery = await startDiscovery(registry, [
      edlSource({ ids: [device.address!], pollIntervalMs: 20 }),
    ]);
    cleanups.push(async () => discovery.stop());
    const d = await until(registry, device.address!, (x) => x.state === 'ready');
    assert.equal(d.mode, 'edl');
    assert.equal(d.connection, 'tcp');
    assert.equal(d.serial, '1234abcd');
    assert.equal(d.msmHwId, '000a50e100000000');
    assert.equal(d.oemPkHash, Buffer.from(device.oemPkHash).toString('hex'));
    assert.equal(d.saharaVersion, 2);
    // Many poll ticks later the ROM has still been spoken to once: it waits for the programmer.
    await sleep(400);
    assert.equal(sessions(device).length, 1, device.history.join('; '));
    assert.equal(device.mode, 'sahara');
  });

  it('a serial port that appears later is identified when it appears, and only then', async () => {
    const stateDir = await fs.mkdtemp(join(tmpdir(), 'flashline-edl-src-'));
    cleanups.push(() => fs.rm(stateDir, { recursive: true, force: true }));
    const path = join(stateDir, 'pty', 'pty-host');
    const registry = new DeviceRegistry();
    const discovery = await startDiscovery(registry, [edlSource({ ids: [path], pollIntervalMs: 20 })]);
    cleanups.push(async () => discovery.stop());
    const id = `serial:${path}`;
    const gone = await until(registry, id, (x) => x.state === 'gone');
    assert.equal(gone.mode, 'edl');
    assert.match(gone.note ?? '', /not there/);
    const device = await EdlDeviceHandle.start({ stateDir, tcp: false, pty: true, saharaVersion: 3 });
    cleanups.push(() => device.stop());
    const d = await until(registry, id, (x) => x.state === 'ready');
    assert.equal(d.connection, 'serial');
    assert.equal(d.saharaVersion, 3);
    assert.equal(d.oemPkHash, Buffer.from(device.oemPkHash).toString('hex'));
    assert.match(d.msmHwId ?? '', /^chip 000a50e1$/);
    // The pty is re-offered after our identify hung up: the same appearance, not a new one.
    await sleep(600);
    assert.equal(sessions(device).length, 1, device.history.join('; '));
    assert.equal(registry.get(id)?.state, 'ready');
  });

  it('a port that does not speak Sahara is listed with the reason', async () => {
    const { createServer } = await import('node:net');
    const sockets = new Set<import('node:net').Socket>();
    const server = createServer((s) => {
      sockets.add(s);
      s.on('error', () => undefined);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    });
    const port = (server.address() as { port: number }).port;
    const registry = new DeviceRegistry();
    const id = `edl:127.0.0.1:${port}`;
    const discovery = await startDiscovery(registry, [
      edlSource({ ids: [id], identifyTimeoutMs: 3000, pollIntervalMs: 20 }),
    ]);
    cleanups.push(async () => discovery.stop());
    const d = await until(registry, id, (x) => x.state === 'error');
    assert.equal(d.mode, 'edl');
    assert.match(d.note ?? '', /no Sahara answer within 3 s/);
  });
});
