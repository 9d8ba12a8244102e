/** jobs.autoFlashState comes from the flash service itself, so every page (caller) sees the same switch. */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { makeDemoPackage } from '../../../main/cli/commands/demo.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { FlashService } from '../../../main/flash/service.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-autoflash-'));
after(() => rmSync(home, { recursive: true, force: true }));

describe('auto-flash state', () => {
  it('is kept by the flash service and shared by every caller', async () => {
    const flash = new FlashService({ home });
    const devices = new DeviceRegistry();
    const page = () =>
      createCallerFactory(appRouter)({ version: 't', mode: 'station', devices, demo: false, flash });
    const off = { enabled: false, packagePath: null };
    assert.deepEqual(flash.getAutoFlash(), off);
    assert.deepEqual(await page().jobs.autoFlashState(), off);

    const path = await makeDemoPackage(join(home, 'demo.flp'), { bootSize: 4096, systemSize: 4096 });
    assert.deepEqual(await page().jobs.autoFlash({ packagePath: path }), {
      enabled: true,
      packagePath: path,
    });
    // Another page, and the service itself, see it on.
    assert.deepEqual(await page().jobs.autoFlashState(), { enabled: true, packagePath: path });
    assert.deepEqual(flash.getAutoFlash(), { enabled: true, packagePath: path });

    // Switching to a package that fails to open leaves it off, not on with the old package.
    await assert.rejects(page().jobs.autoFlash({ packagePath: join(home, 'missing.flp') }));
    assert.deepEqual(await page().jobs.autoFlashState(), off);

    await page().jobs.autoFlash({ packagePath: path });
    assert.deepEqual(await page().jobs.autoFlash({ packagePath: null }), off);
    assert.deepEqual(await page().jobs.autoFlashState(), off);
  });
});
