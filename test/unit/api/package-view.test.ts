/** packages.open returns the verification summary the Package screen shows; a tampered file is refused as data. */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { appRouter } from '../../../main/api/router.js';
import { createCallerFactory } from '../../../main/api/trpc.js';
import { makeDemoPackage } from '../../../main/cli/commands/demo.js';
import { FlashlineError } from '../../../main/common/errors.js';
import { DeviceRegistry } from '../../../main/devices/registry.js';
import { FlashService } from '../../../main/flash/service.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-pkgview-'));
after(() => rmSync(home, { recursive: true, force: true }));

describe('packages.open', () => {
  const caller = createCallerFactory(appRouter)({
    version: 't',
    mode: 'station',
    devices: new DeviceRegistry(),
    demo: false,
    flash: new FlashService({ home }),
  });

  it('returns signers, products, version, rollback index, expiry and images', async () => {
    const path = await makeDemoPackage(join(home, 'demo.flp'), { bootSize: 8192, systemSize: 16384 });
    const view = await caller.packages.open({ path });
    assert.equal(view.path, path);
    assert.equal(view.id, 'demo');
    assert.deepEqual(view.products, ['flashline-virtual']);
    assert.equal(view.version, '2.0.0');
    assert.equal(view.rollbackIndex, 2);
    assert.equal(view.signerKeyIds.length, 1);
    // The demo package is signed with the shipped demo key, and the screen is told so (with its comment).
    assert.deepEqual(
      view.signers.map((s) => [s.keyId, s.demo, /DEMO key/.test(s.comment ?? '')]),
      [[view.signerKeyIds[0], true, true]],
    );
    assert.ok(Date.parse(view.expires) > Date.parse(view.created));
    assert.deepEqual(
      view.images.map((i) => [i.partition, i.size, i.slotted]),
      [
        ['boot', 8192, true],
        ['system', 16384, true],
      ],
    );
    assert.equal((await caller.app.statusCodes()).find((c) => c.code === 22)?.name, 'bad_signature');
  });

  it('shows what the flash service verified, without reading the file again', async () => {
    const path = await makeDemoPackage(join(home, 'once.flp'), { bootSize: 4096, systemSize: 4096 });
    const flash = new FlashService({ home });
    const pageCaller = createCallerFactory(appRouter)({
      version: 't',
      mode: 'station',
      devices: new DeviceRegistry(),
      demo: false,
      flash,
    });
    const first = await pageCaller.packages.open({ path });
    // The service's own record carries the verification facts the screen shows.
    const opened = await flash.openPackage(path);
    assert.deepEqual(first.signerKeyIds, opened.signerKeyIds);
    assert.equal(first.created, opened.created);
    assert.equal(first.expires, opened.expires);
    assert.equal(first.sha256, opened.sha256);
    assert.equal(first.encrypted, false);
    // With the file gone, a second open still answers from the verified package: nothing re-reads the head.
    renameSync(path, `${path}.moved`);
    assert.deepEqual(await pageCaller.packages.open({ path }), first);
    // A fresh service has to read the file, and says so when it is not there.
    await assert.rejects(caller.packages.open({ path }));
  });

  it('refuses a package altered after signing with its verify_failed code', async () => {
    const good = await makeDemoPackage(join(home, 'good.flp'), { bootSize: 8192, systemSize: 8192 });
    const bytes = readFileSync(good);
    bytes.write('"rollbackIndex":7', bytes.indexOf('"rollbackIndex":2'));
    const bad = join(home, 'bad.flp');
    writeFileSync(bad, bytes);
    await assert.rejects(caller.packages.open({ path: bad }), (err: unknown) => {
      const cause = (err as { cause?: unknown }).cause;
      assert.ok(cause instanceof FlashlineError);
      assert.equal(cause.code, 22);
      assert.match(cause.message, /altered after signing/);
      return true;
    });
  });
});
