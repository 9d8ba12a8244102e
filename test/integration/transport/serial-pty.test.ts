/**
 * The serial transport over a real pty pair made by socat: bytes both ways, fastboot framing, and a
 * vanished peer (socat killed = cable pulled) surfacing as DisconnectedError rather than a hang.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import {
  DisconnectedError,
  framedPacketLink,
  listSerialPorts,
  OpenError,
  openSerialStream,
  TimeoutError,
} from '../../../main/transport/index.js';

async function ptyPair(): Promise<{ child: ChildProcess; paths: [string, string] }> {
  const child = spawn('socat', ['-d', '-d', 'pty,raw,echo=0', 'pty,raw,echo=0'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const paths: string[] = [];
  let log = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`socat did not report two ptys: ${log}`)), 10_000);
    child.stderr?.on('data', (d: Buffer) => {
      log += d.toString();
      for (const m of log.matchAll(/PTY is (\S+)/g)) if (!paths.includes(m[1]!)) paths.push(m[1]!);
      if (paths.length === 2) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', () => reject(new Error(`socat exited: ${log}`)));
  });
  return { child, paths: [paths[0]!, paths[1]!] };
}

describe('serial transport over a socat pty pair', () => {
  let child: ChildProcess;
  let paths: [string, string];
  before(async () => {
    ({ child, paths } = await ptyPair());
  });
  after(() => {
    child.kill();
  });

  it('carries bytes both ways and framed packets across split reads', async () => {
    const a = await openSerialStream({ path: paths[0], baudRate: 115200 });
    const b = await openSerialStream({ path: paths[1], baudRate: 115200 });
    await a.write(new TextEncoder().encode('ping'));
    assert.equal(new TextDecoder().decode(await b.readExactly(4, { timeoutMs: 5000 })), 'ping');
    const pa = framedPacketLink(a);
    const pb = framedPacketLink(b);
    const big = new Uint8Array(20_000).map((_, i) => i & 0xff);
    await pa.send(big);
    assert.deepEqual(await pb.receive({ maxLength: 65536, timeoutMs: 5000 }), big);
    await assert.rejects(pb.receive({ timeoutMs: 50 }), TimeoutError);
    await a.close();
    await b.close();
  });

  it('reports a missing port as OpenError with what to check', async () => {
    await assert.rejects(
      openSerialStream({ path: '/dev/flashline-no-such-tty' }),
      (e: unknown) => e instanceof OpenError && /check the path/.test(e.message),
    );
  });

  it('lists ports without throwing even where enumeration is impossible', async () => {
    const listing = await listSerialPorts();
    assert.ok(Array.isArray(listing.ports));
    assert.ok(!listing.ports.some((p) => p.path === paths[0]), 'ptys are never listed');
  });

  it('turns the peer vanishing into DisconnectedError, not a hang', async () => {
    const pair = await ptyPair();
    const a = await openSerialStream({ path: pair.paths[0] });
    const b = await openSerialStream({ path: pair.paths[1] });
    // A round trip first: serialport then waits on its poller, which reports the hang-up of a pty whose
    // master is gone (a master closed before the first poll is only caught by the read timeout).
    await b.write(new Uint8Array([1]));
    await a.readExactly(1, { timeoutMs: 5000 });
    const pending = a.read({ timeoutMs: 60_000 });
    await b.close();
    pair.child.kill('SIGKILL');
    const err = await pending.catch((e: unknown) => e);
    assert.ok(err instanceof DisconnectedError, `got ${String(err)}`);
    await a.close();
  });
});
