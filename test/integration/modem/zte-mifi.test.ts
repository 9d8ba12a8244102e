/**
 * The modem stack against the zte-mifi virtual device over real pty pairs (socat): identification over AT,
 * the EDL switch over AT (vendor table: AT+ZCDRUN=E) and over DIAG (4B 65 01 00), and the failures a
 * technician meets — a silent port (typed timeout) and a port pouring noise (typed protocol error).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { rebootDevice } from '../../../main/devices/device-actions.js';
import { enterModemEdl, identifyModemAt } from '../../../main/devices/modem-actions.js';
import { modemSource } from '../../../main/devices/modem-source.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { AtProtocolError } from '../../../main/protocol/at/index.js';
import { TimeoutError } from '../../../main/transport/index.js';
import type { AtFault } from '../../../virtual-device/modem/at-responder.js';
import { ZTE_MIFI_IDENTITY, ZteMifiDevice } from '../../../virtual-device/modem/zte-mifi.js';

/** Short limits keep the failure cases quick; nothing here asserts a duration. */
const quick = { timeoutMs: 1000, at: { timeoutMs: 1000, probeIntervalMs: 50 } };

describe('zte-mifi virtual modem over ptys', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function start(atFault?: AtFault): Promise<ZteMifiDevice> {
    const dir = await mkdtemp(join(tmpdir(), 'zte-mifi-test-'));
    const device = new ZteMifiDevice({ dir, ...(atFault ? { atFault } : {}) });
    cleanups.push(async () => {
      await device.stop();
      await rm(dir, { recursive: true, force: true });
    });
    await device.start();
    return device;
  }

  it('is identified over AT, twice in a row (each host connection gets a fresh pair)', async () => {
    const device = await start();
    for (let i = 0; i < 2; i++) {
      const reoffered = device.nextAtOffer();
      const id = await identifyModemAt(device.atPath!, quick);
      assert.equal(id.manufacturer, ZTE_MIFI_IDENTITY.manufacturer);
      assert.equal(id.model, ZTE_MIFI_IDENTITY.model);
      assert.equal(id.revision, ZTE_MIFI_IDENTITY.revision);
      assert.equal(id.imei, ZTE_MIFI_IDENTITY.imei);
      await reoffered;
    }
  });

  it('switches to EDL via AT with the vendor table (AT+ZCDRUN=E); its ports go away', async () => {
    const device = await start();
    const left = once(device, 'download-mode');
    const result = await enterModemEdl(device.atPath!, quick);
    assert.equal(result.vendorFile, 'zte.json');
    assert.deepEqual(result.done, [{ step: { at: 'AT+ZCDRUN=E', answer: 'ok' }, outcome: 'OK' }]);
    assert.deepEqual(result.pending, []);
    assert.deepEqual(await left, ['at']);
    assert.equal(device.mode, 'edl');
    await assert.rejects(identifyModemAt(device.atPath!, quick));
  });

  it('is listed by the modem source and switched to EDL through the registry (the UI/API path)', async () => {
    const device = await start();
    const registry = new DeviceRegistry();
    const source = modemSource({ paths: [device.atPath!], timeoutMs: 1000 });
    const stop = new AbortController();
    const reoffered = device.nextAtOffer();
    await source.start(registry, stop.signal);
    await source.settled?.();
    await reoffered;
    const id = `serial:${device.atPath}`;
    assert.equal(registry.get(id)?.mode, 'modem');
    assert.equal(registry.get(id)?.state, 'ready');
    assert.equal(registry.get(id)?.imei, ZTE_MIFI_IDENTITY.imei);
    await assert.rejects(rebootDevice(registry, id, 'bootloader'), /not in Android/);
    const left = once(device, 'download-mode');
    await rebootDevice(registry, id, 'edl', AbortSignal.timeout(30_000));
    assert.deepEqual(await left, ['at']);
    stop.abort();
  });

  it('switches to EDL via DIAG (4B 65 01 00, HDLC framed)', async () => {
    const device = await start();
    const left = once(device, 'download-mode');
    const result = await enterModemEdl(device.diagPath!, { ...quick, via: 'diag' });
    assert.equal(result.done[0]?.outcome, 'port-gone');
    assert.deepEqual(await left, ['diag']);
    assert.equal(device.mode, 'edl');
  });

  it('a silent AT port ends in a typed timeout', async () => {
    const device = await start('silent');
    await assert.rejects(identifyModemAt(device.atPath!, quick), TimeoutError);
  });

  it('an AT port answering noise ends in a typed protocol error', async () => {
    const device = await start('garbage');
    await assert.rejects(identifyModemAt(device.atPath!, quick), AtProtocolError);
  });
});
