/**
 * Hostile bytes on either side: the virtual adbd ends its session with a reason (never throws), and the
 * client's handshake fails with a typed error (never hangs, never an untyped crash).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { AdbProtocolError, AdbUnauthorizedError, connectAdb } from '../../../main/protocol/adb/index.js';
import { encodeMessage } from '../../../main/protocol/adb/wire.js';
import {
  createDuplexPair,
  DisconnectedError,
  memoryLink,
  TimeoutError,
} from '../../../main/transport/index.js';
import { serveAdb } from '../../../virtual-device/adb/serve-adb.js';
import { FakePhone } from './fake-phone.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-adb-fuzz-'));
after(() => rmSync(home, { recursive: true, force: true }));

const cnxn = encodeMessage({ command: 'CNXN', arg0: 0x01000001, arg1: 4096, payload: new Uint8Array(0) });
/** A valid CNXN first (so the device gets past the handshake sometimes), then anything. */
const hostile = fc.tuple(
  fc.boolean(),
  fc.array(fc.uint8Array({ minLength: 1, maxLength: 80 }), { maxLength: 6 }),
);

describe('ADB under hostile input', () => {
  it('the virtual adbd ends every session with a reason', async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async ([valid, chunks]) => {
        const [host, device] = createDuplexPair();
        host.on('data', () => {});
        host.on('error', () => {});
        const session = serveAdb(device, new FakePhone(), { serial: 'FUZZ' });
        if (valid) host.write(cnxn);
        for (const c of chunks) host.write(c);
        host.end();
        const end = await session;
        assert.ok(['closed', 'error'].includes(end.reason));
        host.destroy();
      }),
      { numRuns: 60 },
    );
  });

  it("the client's handshake fails with a typed error", async () => {
    await fc.assert(
      fc.asyncProperty(hostile, async ([valid, chunks]) => {
        const [host, device] = createDuplexPair();
        device.on('data', () => {});
        device.on('error', () => {});
        const opening = connectAdb(memoryLink(host), { keyDir: home, timeoutMs: 200, authWaitMs: 200 });
        if (valid) device.write(cnxn);
        for (const c of chunks) device.write(c);
        const outcome = await opening.then(
          async (conn) => {
            await conn.close();
            return 'connected';
          },
          (err: unknown) => err,
        );
        assert.ok(
          outcome === 'connected' ||
            outcome instanceof AdbProtocolError ||
            outcome instanceof TimeoutError ||
            outcome instanceof AdbUnauthorizedError ||
            outcome instanceof DisconnectedError,
          String(outcome),
        );
        device.destroy();
      }),
      { numRuns: 30 },
    );
  });
});
