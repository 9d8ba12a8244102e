/**
 * `flashline virtual-device --ota …` as a person runs it: the flags reach the agent, which updates the device
 * from a repository on loopback and prints each report on stderr; flags that make no sense alone exit 2.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { after, before, describe, it } from 'node:test';
import { FLASHLINE_BIN, startVirtualDeviceCli } from '../virtual-device/cli-helpers.js';
import { makeOtaWorld, type OtaWorld, PRODUCT } from './fixture.js';

describe('flashline virtual-device --ota', () => {
  let world: OtaWorld;
  before(async () => {
    world = await makeOtaWorld();
  });
  after(async () => {
    await world?.close();
  });

  it('updates the device from the repository and prints the reports, ending with status 0', async (t) => {
    const { child, rows } = await startVirtualDeviceCli<{ serial: string }>(t, [
      '--tcp',
      '127.0.0.1:0',
      '--json',
      '--boot-delay',
      '10',
      '--product',
      PRODUCT,
      '--ota',
      world.server.url,
      '--ota-root',
      world.agentOptions().root,
      '--trust',
      world.trustDir,
      '--ota-interval',
      '3600',
    ]);
    const serial = rows[0]?.serial;
    const lines = createInterface({ input: child.stderr });
    const seen: string[] = [];
    for await (const line of lines) {
      seen.push(line);
      if (/OTA .* (done|failed)/.test(line)) break;
    }
    const last = seen.at(-1) ?? '';
    assert.match(last, new RegExp(`^${serial}: OTA ${world.version} done status 0`), seen.join('\n'));
    assert.ok(
      seen.some((l) => l.includes(`up (running ${world.version}, slot b)`)),
      seen.join('\n'),
    );
    child.kill('SIGTERM');
    await once(child, 'exit');
  });

  it('refuses OTA flags without --ota, and --ota without its root (exit 2)', () => {
    const run = (args: string[]) =>
      spawnSync(process.execPath, [FLASHLINE_BIN, 'virtual-device', ...args], { encoding: 'utf8' });
    const alone = run(['--ota-root', 'root.json']);
    assert.equal(alone.status, 2);
    assert.match(alone.stderr, /need --ota URL/);
    const noRoot = run(['--ota', world.server.url, '--trust', world.trustDir]);
    assert.equal(noRoot.status, 2);
    assert.match(noRoot.stderr, /--ota needs --ota-root/);
  });
});
