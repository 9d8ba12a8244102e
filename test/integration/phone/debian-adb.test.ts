/**
 * Issue #19's scenario with the real peers: `flashline virtual-device --profile stock-android` as a user runs
 * it; Debian's adb connects, lists it, reads `ro.boot.slot_suffix`, sends it to the bootloader, where Google's
 * fastboot answers `getvar current-slot`; `fastboot reboot` brings Android (and ADB) back. With
 * `--adb-authorized-keys` holding another computer's key, adb shows the phone as unauthorized.
 * The adb server is the test's own (own port, HOME in a temp dir) and is killed afterwards.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, describe, it, type TestContext } from 'node:test';
import { loadAdbKey } from '../../../main/protocol/adb/index.js';
import { tempDir } from '../../unit/virtual-device/helpers/fixtures.js';
import { AdbServer, eventually, fastboot, probeTcp } from './helpers.js';

const bin = join(import.meta.dirname, '../../../bin/flashline.js');

interface Row {
  serial: string;
  profile: string;
  address: string;
  adb: string;
}

interface Cli {
  readonly row: Row;
  /** Resolves at the next `SERIAL: up…` line on stderr. */
  nextUp(): Promise<string>;
}

async function startCli(t: TestContext, ...extra: string[]): Promise<Cli> {
  const args = [bin, 'virtual-device', '--profile', 'stock-android', '--tcp', '127.0.0.1:0', '--json'];
  const child: ChildProcess = spawn(process.execPath, [...args, '--boot-delay', '100', ...extra], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(async () => {
    if (child.exitCode !== null) return;
    child.kill('SIGINT');
    await once(child, 'exit');
  });
  const ups: ((line: string) => void)[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    if (/: up/.test(line)) ups.shift()?.(line);
  });
  const [first] = (await Promise.race([
    once(createInterface({ input: child.stdout! }), 'line'),
    once(child, 'exit').then(() => assert.fail('virtual-device exited early')),
  ])) as [string];
  const [row] = JSON.parse(first) as Row[];
  assert.ok(row);
  return { row, nextUp: () => new Promise((resolve) => ups.push(resolve)) };
}

describe("Debian's adb and Google's fastboot against the stock phone", () => {
  let server: AdbServer;
  before(async () => {
    server = await AdbServer.start();
  });
  after(() => server.stop());

  it('adb connect, devices, getprop; adb reboot bootloader → fastboot getvar current-slot; fastboot reboot → adb', async (t) => {
    const { row, nextUp } = await startCli(t);
    assert.equal(row.profile, 'stock-android');
    assert.match(row.adb, /^adb:127\.0\.0\.1:\d+$/);
    const serial = row.adb.slice('adb:'.length);
    const fastbootPort = Number(row.address.split(':').pop());
    assert.equal(await probeTcp(fastbootPort), 'ECONNREFUSED');

    assert.match((await server.run('connect', serial)).out, /connected to/);
    await eventually(
      async () =>
        (await server.run('devices', '-l')).out
          .split('\n')
          .some(
            (l) =>
              l.startsWith(serial) &&
              /\sdevice product:flashline-virtual model:Flashline_Virtual_Phone/.test(l),
          ),
      'adb devices lists the phone as a device',
    );
    const slot = await server.run('-s', serial, 'shell', 'getprop', 'ro.boot.slot_suffix');
    assert.deepEqual([slot.code, slot.out], [0, '_a\n']);

    const inBootloader = nextUp();
    assert.equal((await server.run('-s', serial, 'reboot', 'bootloader')).code, 0);
    assert.match(await inBootloader, /up in the bootloader/);
    assert.match(await fastboot(row.address, 'getvar', 'current-slot'), /current-slot: a/);

    const inAndroid = nextUp();
    await fastboot(row.address, 'reboot');
    assert.match(await inAndroid, /up in Android/);
    // adb's server notices the dropped TCP device on its own schedule, and a transport it had marked
    // offline while the phone rebooted can stay so (seen once in CI): reconnect explicitly, and again after
    // a while without an answer, as a technician would (the first time right away).
    let attempt = 0;
    await eventually(async () => {
      if (attempt++ % 10 === 0) {
        await server.run('disconnect', serial);
        await server.run('connect', serial);
      }
      const r = await server.run('-s', serial, 'shell', 'getprop', 'sys.boot_completed');
      return r.code === 0 && r.out === '1\n';
    }, 'sys.boot_completed=1 over adb after fastboot reboot');
  });

  it("--adb-authorized-keys with another computer's key: adb shows the phone as unauthorized", async (t) => {
    const other = await tempDir(t);
    await loadAdbKey(join(other, 'adb'));
    const keys = join(other, 'authorized_keys');
    await fs.writeFile(keys, await fs.readFile(join(other, 'adb', 'adbkey.pub'), 'utf8'));
    const { row } = await startCli(t, '--adb-authorized-keys', keys);
    const serial = row.adb.slice('adb:'.length);
    await server.run('connect', serial);
    await eventually(
      async () => (await server.run('devices')).out.includes(`${serial}\tunauthorized`),
      'adb devices shows the phone as unauthorized',
    );
    await server.run('disconnect', serial);
  });
});
