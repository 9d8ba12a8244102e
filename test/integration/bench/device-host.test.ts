/**
 * The parallel benchmark's device host: virtual devices in a child process that answer fastboot over TCP
 * and go away (child exits, ports closed) when stopped.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { describe, it } from 'node:test';
import { startDeviceHost } from '../../../bench/_device-host.js';
import { openFastboot } from '../../../main/protocol/fastboot/index.js';

const MiB = 1024 * 1024;

function refused(address: string): Promise<boolean> {
  const m = /^tcp:(.+):(\d+)$/.exec(address);
  assert.ok(m, `address ${address} is tcp:HOST:PORT`);
  return new Promise((resolve) => {
    const s = connect({ host: m[1]!, port: Number(m[2]) });
    s.once('connect', () => {
      s.destroy();
      resolve(false);
    });
    s.once('error', () => resolve(true));
  });
}

describe('bench device host', () => {
  it('serves N distinct paced devices from a child process and stops them', async () => {
    const host = await startDeviceHost({
      count: 2,
      rateBytesPerSecond: 8 * MiB,
      maxDownloadSize: 4 * MiB,
      bootDelayMs: 50,
    });
    try {
      assert.equal(host.addresses.length, 2);
      const serials: string[] = [];
      for (const address of host.addresses) {
        const client = await openFastboot(address);
        try {
          serials.push(await client.getvar('serialno'));
          assert.equal(await client.getvar('max-download-size'), `0x${(4 * MiB).toString(16)}`);
        } finally {
          await client.close();
        }
      }
      assert.deepEqual(serials, ['BENCH001', 'BENCH002']);
    } finally {
      await host.stop();
    }
    for (const address of host.addresses) assert.ok(await refused(address), `${address} closed after stop`);
  });
});
