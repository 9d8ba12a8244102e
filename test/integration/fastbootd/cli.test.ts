/** `flashline virtual-device --profile stock-android --dynamic-partitions` as a user runs it. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { openAdb } from '../../../main/protocol/adb/index.js';
import { tempDir } from '../../unit/virtual-device/helpers/fixtures.js';
import { fastboot } from '../phone/helpers.js';
import { FLASHLINE_BIN, startVirtualDeviceCli } from '../virtual-device/cli-helpers.js';
import { getvar } from './helpers.js';

const run = promisify(execFile);
const bin = FLASHLINE_BIN;

test('--dynamic-partitions --super-size: adb reboot fastboot, then fastbootd answers on the fastboot port', async (t) => {
  const { child, rows } = await startVirtualDeviceCli<{ address: string; adb: string; serial: string }>(t, [
    ...['--profile', 'stock-android', '--dynamic-partitions', '--super-size', String(32 * 1024 * 1024)],
    ...['--tcp', '127.0.0.1:0', '--json', '--boot-delay', '50'],
  ]);
  const [row] = rows;
  assert.ok(row);
  const errLines = createInterface({ input: child.stderr });
  const inFastbootd = new Promise<void>((resolve) => {
    errLines.on('line', (line) => {
      if (line.startsWith(`${row.serial}: up in fastbootd`)) resolve();
    });
  });
  const c = await openAdb(row.adb, { keyDir: join(await tempDir(t), 'adb'), timeoutMs: 10_000 });
  await c.reboot('fastboot');
  await c.close();
  await inFastbootd;
  assert.equal(await getvar(row.address, 'is-userspace'), 'yes');
  assert.equal(await getvar(row.address, 'partition-size:super'), '0x2000000');
  assert.match(await fastboot(row.address, 'getvar', 'is-logical:system_a'), /is-logical:system_a: yes/);
  child.kill('SIGINT');
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 0);
});

test('--dynamic-partitions needs the stock-android profile; --super-size needs --dynamic-partitions', async () => {
  for (const args of [['--dynamic-partitions'], ['--profile', 'stock-android', '--super-size', '33554432']]) {
    const r = await run(process.execPath, [bin, 'virtual-device', ...args], { timeout: 30_000 }).then(
      () => ({ code: 0, stderr: '' }),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr.split('\n')[0]!, /^error: .*(stock-android|--dynamic-partitions)/);
  }
});
