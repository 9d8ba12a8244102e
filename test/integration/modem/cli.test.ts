/**
 * The CLI as a technician runs it against a running `virtual-device --profile zte-mifi`: the device list
 * shows the modem in mode `modem` with its identity, `modem edl` takes it into download mode (exit 0), and
 * the exit codes of docs/status-codes.md for a port that is not there (15). Children run with the leak
 * check of child.ts: a serial port left open fails the test.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ZTE_MIFI_IDENTITY, ZteMifiDevice } from '../../../virtual-device/modem/zte-mifi.js';
import { runFlashline } from '../cli/child.js';

describe('flashline devices --modem / modem edl against zte-mifi', () => {
  let dir: string;
  let device: ZteMifiDevice;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zte-mifi-cli-'));
    device = new ZteMifiDevice({ dir });
    await device.start();
  });
  after(async () => {
    await device.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the modem with manufacturer, model, revision and IMEI, then switches it to EDL', async () => {
    const at = device.atPath!;
    const reoffered = device.nextAtOffer();
    const list = await runFlashline(['devices', '--no-usb', '--no-list-serial', '--modem', at, '--json']);
    assert.equal(list.code, 0, list.stderr);
    const [d] = JSON.parse(list.stdout).devices;
    assert.equal(d.mode, 'modem');
    assert.equal(d.state, 'ready');
    assert.equal(d.manufacturer, ZTE_MIFI_IDENTITY.manufacturer);
    assert.equal(d.model, ZTE_MIFI_IDENTITY.model);
    assert.equal(d.version, ZTE_MIFI_IDENTITY.revision);
    assert.equal(d.imei, ZTE_MIFI_IDENTITY.imei);
    await reoffered;
    const edl = await runFlashline(['modem', 'edl', '--device', `serial:${at}`, '--json']);
    assert.equal(edl.code, 0, edl.stderr);
    assert.equal(JSON.parse(edl.stdout).ok, true);
    assert.equal(device.mode, 'edl');
  });

  it('a port that is not there exits 15 (device_not_found)', async () => {
    const run = await runFlashline(['modem', 'identify', '--device', `serial:${join(dir, 'nothing-here')}`]);
    assert.equal(run.code, 15, run.stderr);
    assert.match(run.stderr, /cannot open serial port/);
  });
});
