/**
 * The station's auto-flash, at the service level over real TCP: switched on with no device connected, a
 * unit that appears afterwards (identified later) is flashed, once; after the job the registry shows what
 * the unit now reports (its new version and slot), and `devices.refresh` reads it again on demand; plugged
 * in again, it is skipped with a reason every page can read.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { makeDemoPackage } from '../../../main/cli/commands/demo.js';
import { DeviceRegistry, startDiscovery, tcpSource } from '../../../main/devices/index.js';
import { FlashService } from '../../../main/flash/service.js';
import { FAST_ENGINE, SMALL_PACKAGE, tempDir } from '../flash/helpers.js';
import { freePorts, startUnit } from '../line/helpers.js';

const tmp = tempDir('flashline-hotplug-');

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 50));
}
after(tmp.cleanup);

describe('auto-flash on hotplug (service level)', () => {
  it('flashes a device that appears after auto-flash was switched on, and shows its new state', {
    timeout: 60_000,
  }, async () => {
    const home = join(tmp.dir, 'home');
    const pkg = await makeDemoPackage(join(tmp.dir, 'hotplug.flp'), SMALL_PACKAGE);
    const [port] = await freePorts(1);
    const id = `tcp:127.0.0.1:${port}`;
    const devices = new DeviceRegistry();
    const flash = new FlashService({ home, engine: FAST_ENGINE, devices });
    const api = createCallerFactory(appRouter)({
      version: 't',
      mode: 'station',
      devices,
      demo: false,
      flash,
    });
    const discovery = await startDiscovery(devices, [
      tcpSource([{ host: '127.0.0.1', port: port! }], { pollIntervalMs: 150 }),
    ]);
    let unit = await (async () => {
      await discovery.settled();
      assert.equal(devices.get(id)?.state, 'gone', 'nothing answers yet');
      await api.jobs.autoFlash({ packagePath: pkg });
      return startUnit(tmp.dir, port!, 'HOT001');
    })();
    try {
      const report = await new Promise<{ status: number; serial?: string }>((resolve) =>
        flash.manager.subscribe((e) => {
          if (e.type === 'end') resolve({ status: e.status, serial: e.report.device.serial });
        }),
      );
      assert.deepEqual(report, { status: 0, serial: 'HOT001' });
      // Released after the job and re-identified: the registry shows what the unit now reports.
      const now = await new Promise<unknown>((resolve) => {
        const check = () => {
          const d = devices.get(id);
          if (d?.state === 'ready' && d.version === '2.0.0') resolve(d);
        };
        devices.subscribe(check);
        check();
      });
      assert.equal((now as { currentSlot?: string }).currentSlot, 'b');
      const refreshed = await api.devices.refresh({ id });
      assert.deepEqual(
        { state: refreshed.state, version: refreshed.version, slot: refreshed.currentSlot },
        { state: 'ready', version: '2.0.0', slot: 'b' },
      );
      await assert.rejects(api.devices.refresh({ id: 'tcp:127.0.0.1:1' }), /No device/);
      // Unplugged and plugged in again: skipped, and every page can say why.
      await unit.stop();
      await until(() => devices.get(id)?.state === 'gone');
      unit = await startUnit(tmp.dir, port!, 'HOT001');
      await until(() => (flash.getAutoFlash().skipped?.length ?? 0) > 0);
      const [skip] = (await api.jobs.autoFlashState()).skipped ?? [];
      assert.deepEqual(
        { deviceId: skip?.deviceId, serial: skip?.serial },
        { deviceId: id, serial: 'HOT001' },
      );
      assert.match(skip?.reason ?? '', /already passed with this package/);
      await api.jobs.autoFlash({ packagePath: null });
      assert.equal(flash.manager.list().length, 1, 'flashed exactly once');
    } finally {
      discovery.stop();
      await unit.stop();
    }
  });
});
