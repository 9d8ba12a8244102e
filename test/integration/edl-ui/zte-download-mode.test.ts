/**
 * The whole ZTE route on real ptys and TCP, as a station sees it: the router (AT port) is switched with
 * AT+ZCDRUN=E through the registry; it shows up in ZTE download mode as an ADB device, which gets
 * `adb reboot edl` (the vendor table's ADB step) because it is new and of the router's model; the unit then
 * appears as a device in EDL on its pty, identified over Sahara. A phone that was already there is not touched.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { rebootDevice } from '../../../main/devices/device-actions.js';
import {
  adbSource,
  DeviceRegistry,
  edlSource,
  modemSource,
  startDiscovery,
} from '../../../main/devices/index.js';
import {
  startVirtualDevice,
  ZTE_MIFI_IDENTITY,
  ZteAfterSwitch,
  ZteMifiDevice,
  zteEdlPtyPath,
} from '../../../virtual-device/index.js';
import { freePorts } from '../line/helpers.js';
import { until } from './registry-wait.js';

describe('ZTE route: AT+ZCDRUN=E → ZTE download mode (ADB) → adb reboot edl → EDL', () => {
  const cleanups: (() => Promise<void>)[] = [];
  after(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('runs the vendor table end to end through the registry', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'flashline-zte-route-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));
    const [adbPort, fastbootPort, phoneFb] = await freePorts(3);
    const events: Record<string, unknown>[] = [];
    const route = new ZteAfterSwitch({
      dir,
      identity: ZTE_MIFI_IDENTITY,
      adb: { host: '127.0.0.1', port: adbPort! },
      bootFastboot: async (serial) => {
        const d = await startVirtualDevice({ serial, tcp: { host: '127.0.0.1', port: fastbootPort! } });
        return { address: d.address, stop: () => d.stop() };
      },
      report: (e) => events.push(e),
    });
    cleanups.push(() => route.stop());
    const router = new ZteMifiDevice({ dir, onDownloadMode: (via) => route.onDownloadMode(via) });
    cleanups.push(() => router.stop());
    await router.start();
    // A phone in Android on the same station, already there: never a target of the follow-up.
    const phone = await startVirtualDevice({
      profile: 'stock-android',
      serial: 'PHONE001',
      tcp: { host: '127.0.0.1', port: phoneFb! },
      adb: { host: '127.0.0.1', port: 0 },
    });
    cleanups.push(() => phone.stop());
    const phoneAdb = phone.adbAddress!;
    const phonePort = Number(phoneAdb.split(':').at(-1));

    // The AT port is offered afresh after the modem source's identify hangs up; the switch opens that one.
    const reoffered = router.nextAtOffer();
    const registry = new DeviceRegistry();
    const keyDir = join(dir, 'adbkeys');
    const discovery = await startDiscovery(registry, [
      modemSource({ paths: [router.atPath!] }),
      adbSource(
        [
          { host: '127.0.0.1', port: adbPort! },
          { host: '127.0.0.1', port: phonePort },
        ],
        { pollIntervalMs: 100, keyDir },
      ),
      edlSource({ ids: [zteEdlPtyPath(dir)], pollIntervalMs: 100 }),
    ]);
    cleanups.push(async () => discovery.stop());
    const modemId = `serial:${router.atPath}`;
    await until(registry, modemId, (d) => d.state === 'ready');
    await until(registry, phoneAdb, (d) => d.state === 'ready');

    await reoffered;
    const left = await rebootDevice(registry, modemId, 'edl');
    assert.equal(left.state, 'gone');
    assert.match(left.note ?? '', /waiting for it over ADB to send: adb reboot edl/);

    const edlId = `serial:${zteEdlPtyPath(dir)}`;
    const edl = await until(registry, edlId, (d) => d.state === 'ready');
    assert.equal(edl.mode, 'edl');
    await until(registry, modemId, (d) => /sent adb reboot edl to adb:127\.0\.0\.1:/.test(d.note ?? ''));
    assert.deepEqual(
      events.map((e) => `${String(e.event)}:${String(e.via)}`),
      ['zte-download-mode:at', 'download-mode:adb'],
    );
    assert.equal(edl.serial, events[1]!.serial);
    // The phone is still in Android, untouched.
    assert.equal(registry.get(phoneAdb)?.mode, 'android');
  });
});
