/**
 * Encrypted packages flash end to end: `flash` with the station key installed in `<home>/station-keys/`,
 * `line` with `--decryption-key FILE`; a package encrypted to another station ends 29 before any device is
 * touched, naming the key ids it is encrypted for.
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { VirtualDeviceHandle } from '../../../virtual-device/index.js';
import { after as deviceAfter, tempDir } from '../flash/helpers.js';
import { freePorts, makeEncryptedPackage, makeStationKey, spawnFlashline, startUnit } from './helpers.js';

const tmp = tempDir('flashline-encrypted-');
after(tmp.cleanup);

describe('encrypted packages', () => {
  let pkg: string;
  let keyId: string;
  let key: string;
  let unit: VirtualDeviceHandle;
  let port = 0;
  let sessions = 0;

  before(async () => {
    const keys = join(tmp.dir, 'keys');
    mkdirSync(keys, { recursive: true });
    ({ key, keyId } = await makeStationKey(keys, 'station'));
    pkg = await makeEncryptedPackage(join(tmp.dir, 'encrypted.flp'), join(keys, 'station'));
    port = (await freePorts(1))[0]!;
    unit = await startUnit(tmp.dir, port, 'ENC001');
    unit.on('session', () => sessions++);
  });
  after(() => unit.stop());

  it('without the station key: 29 naming the recipient key, and the device is never touched', async () => {
    const before = sessions;
    // A station holding only another station's key.
    const otherHome = join(tmp.dir, 'home-other-station');
    mkdirSync(join(otherHome, 'station-keys'), { recursive: true });
    const other = await makeStationKey(join(otherHome, 'station-keys'), 'other');
    for (const [args, home, reason] of [
      [
        ['flash', pkg, '--device', `tcp:127.0.0.1:${port}`],
        join(tmp.dir, 'home-without-key'),
        `encrypted \\(for station key\\(s\\) ${keyId}\\) and no station key is installed`,
      ],
      [
        ['line', pkg, '--device', `tcp:127.0.0.1:${port}`, '--no-usb', '--no-list-serial', '--count', '1'],
        otherHome,
        `encrypted for station key\\(s\\) ${keyId}, none of which this station holds \\(${other.keyId}\\)`,
      ],
    ] as const) {
      const run = spawnFlashline(args, home);
      assert.equal(await run.exit, 29, run.stderr());
      assert.match(run.stderr(), new RegExp(reason));
    }
    assert.equal(sessions, before, 'no fastboot session was opened');
    assert.equal(deviceAfter(unit).running, '1.0.0');
  });

  it('flash uses the key installed in <home>/station-keys/', async () => {
    const home = join(tmp.dir, 'home-with-key');
    mkdirSync(join(home, 'station-keys'), { recursive: true });
    await copyFile(key, join(home, 'station-keys', 'station.key'));
    const run = spawnFlashline(['flash', pkg, '--device', `tcp:127.0.0.1:${port}`], home);
    assert.equal(await run.exit, 0, run.stderr() + run.lines.join('\n'));
    assert.equal(deviceAfter(unit).running, '2.0.0');
  });

  it('line uses --decryption-key FILE and prints its summary', async () => {
    await unit.powerCut(); // a fresh plug-in
    const run = spawnFlashline(
      [
        'line',
        pkg,
        '--device',
        `tcp:127.0.0.1:${port}`,
        '--decryption-key',
        key,
        '--force',
        '--count',
        '1',
        '--poll',
        '150',
        '--no-usb',
        '--no-list-serial',
      ],
      join(tmp.dir, 'home-line'),
    );
    assert.equal(await run.exit, 0, run.stderr() + run.lines.join('\n'));
    assert.match(run.lines.at(-1) ?? '', /^line: 1 unit\(s\), 1 passed, 0 failed \(by code: 0 ok: 1\)/);
    assert.ok(run.lines.some((l) => /ENC001 PASS/.test(l)));
  });
});
