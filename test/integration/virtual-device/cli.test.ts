/** `flashline virtual-device` as a user runs it: start, print addresses, serve, fault flags, Ctrl-C. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { tempDir } from '../../unit/virtual-device/helpers/fixtures.js';
import { MiniClient } from '../../unit/virtual-device/helpers/mini-client.js';
import { FLASHLINE_BIN, startVirtualDeviceCli } from './cli-helpers.js';

const run = promisify(execFile);
const bin = FLASHLINE_BIN;

interface Row {
  serial: string;
  address: string;
  stateDir: string;
}

test('starts N devices with distinct serials, serves fastboot, injects power loss, stops on SIGINT', async (t) => {
  const { child, rows } = await startVirtualDeviceCli<Row>(t, [
    ...['--tcp', '127.0.0.1:0', '--count', '2', '--json'],
    ...['--boot-delay', '50', '--power-loss-at', 'flash:4096'],
  ]);
  assert.equal(rows.length, 2);
  assert.notEqual(rows[0]!.serial, rows[1]!.serial);
  for (const row of rows) {
    const { stderr } = await run('fastboot', ['-s', row.address, 'getvar', 'serialno'], { timeout: 30_000 });
    assert.match(stderr, new RegExp(`serialno: ${row.serial}`));
  }
  // --power-loss-at flash:4096 cuts the power during the first flash; the device comes back at the same address.
  const dir = await tempDir(t);
  const img = join(dir, 'img');
  await fs.writeFile(img, randomBytes(64 * 1024));
  const dev = rows[0]!;
  // The CLI reports on stderr when a device is back; the fastboot client would spin while it is away.
  const errLines = createInterface({ input: child.stderr });
  const back = new Promise<void>((resolve) => {
    errLines.on('line', (line) => {
      if (line.startsWith(`${dev.serial}: up`)) resolve();
    });
  });
  // Google's client spins on a connection dropped mid-command, so the cut is driven with a small host.
  const c = await MiniClient.tcp(Number(dev.address.split(':').pop()));
  await assert.rejects(c.flashBytes('boot_b', await fs.readFile(img)), /closed/);
  await back;
  const slot = (
    await run('fastboot', ['-s', dev.address, 'getvar', 'slot-unbootable:b'], { timeout: 30_000 })
  ).stderr;
  assert.match(slot, /slot-unbootable:b: yes/);
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
  for (const row of rows) assert.equal(existsSync(row.stateDir), false, 'temp state dirs are removed');
});

test('bad flags fail with one line and exit code 2', async () => {
  // Few invocations: each starts a Node process (the shared parsers have their own tests). The last two:
  // an unknown profile, and ADB flags without the stock-android profile.
  for (const args of [
    ['--power-loss-at', 'lunch:3'],
    ['--bad-boot', 'c'],
    ['--profile', 'android'],
    ['--adb', '127.0.0.1:5555'],
  ]) {
    const r = await run(process.execPath, [bin, 'virtual-device', ...args], { timeout: 30_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr.split('\n')[0]!, /^error: /);
  }
});
