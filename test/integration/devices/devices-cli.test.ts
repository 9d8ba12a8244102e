/** `flashline devices` against real virtual devices over TCP and a pty, on a machine without USB. */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { startVirtualDevice } from '../../../virtual-device/index.js';

const run = promisify(execFile);
const cli = new URL('../../../bin/flashline.js', import.meta.url).pathname;

describe('flashline devices', () => {
  let vd: Awaited<ReturnType<typeof startVirtualDevice>>;
  before(async () => {
    vd = await startVirtualDevice({ pty: true, serial: 'CLITEST1', hardwareRevision: 'rev-x' });
  });
  after(async () => {
    await vd.stop();
  });

  it('identifies TCP and serial devices and reports unreachable ones without failing', async () => {
    const tcp = vd.address.replace(/^tcp:/, '');
    const { stdout } = await run(
      process.execPath,
      [
        cli,
        'devices',
        '--json',
        '--no-list-serial',
        '--tcp',
        tcp,
        '--tcp',
        '127.0.0.1:1',
        '--serial',
        vd.ptyPath ?? '',
      ],
      { timeout: 60_000 },
    );
    const out = JSON.parse(stdout) as {
      devices: {
        id: string;
        mode: string;
        state: string;
        serial?: string;
        rollbackIndex?: number;
        note?: string;
      }[];
      problems: string[];
    };
    const byId = new Map(out.devices.map((d) => [d.id, d]));
    const viaTcp = byId.get(`tcp:${tcp}`);
    assert.equal(viaTcp?.mode, 'fastboot');
    assert.equal(viaTcp?.serial, 'CLITEST1');
    assert.equal(typeof viaTcp?.rollbackIndex, 'number');
    assert.deepEqual(
      { ...viaTcp, id: undefined, connection: undefined, address: undefined },
      {
        ...viaTcp,
        id: undefined,
        connection: undefined,
        address: undefined,
        hardwareRevision: 'rev-x',
        product: 'flashline-virtual',
        version: '1.0.0',
      },
    );
    assert.equal(byId.get(`serial:${vd.ptyPath}`)?.serial, 'CLITEST1');
    const refused = byId.get('tcp:127.0.0.1:1');
    assert.equal(refused?.state, 'gone');
    assert.match(refused?.note ?? '', /ECONNREFUSED/);
    // This machine has no USB bus: say so, do not crash.
    assert.ok(out.problems.some((p) => /no USB access/.test(p)) || out.problems.length === 0);
  });

  it('rejects a bad --tcp value with a one-line message and exit code 2', async () => {
    const err = await run(process.execPath, [cli, 'devices', '--tcp', 'nonsense'], { timeout: 30_000 }).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    assert.equal((err as { code: number }).code, 2);
    assert.match((err as { stderr: string }).stderr, /is not HOST:PORT/);
  });

  it('prints a table in text mode', async () => {
    const { stdout } = await run(
      process.execPath,
      [cli, 'devices', '--no-list-serial', '--tcp', vd.address.slice(4)],
      {
        timeout: 60_000,
      },
    );
    assert.match(
      stdout,
      /tcp:127\.0\.0\.1:\d+\s+fastboot\s+ready\s+product=flashline-virtual serial=CLITEST1/,
    );
  });
});
