/**
 * Flashline's ADB client against the virtual device's adbd (serveAdb) over real TCP sockets, and against
 * misbehaving peers: garbage, silence, cancellation. Every failure must be a typed error, never a hang.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { AdbClientConnection } from '../../../main/protocol/adb/connection.js';
import {
  AdbProtocolError,
  AdbServiceError,
  AdbUnauthorizedError,
  adbKeyFingerprint,
  loadAdbKey,
  openAdb,
} from '../../../main/protocol/adb/index.js';
import { type AdbMessage, AdbMessageParser, encodeMessage } from '../../../main/protocol/adb/wire.js';
import { AbortedError, DisconnectedError, TimeoutError } from '../../../main/transport/index.js';
import { FakePhone, listenAdb } from './fake-phone.js';

const home = mkdtempSync(join(tmpdir(), 'flashline-adb-client-'));
const keyDir = join(home, 'adb');
after(() => rmSync(home, { recursive: true, force: true }));

/** A peer that answers each message with `reply(msg)` (raw bytes), to script protocol faults. */
async function scriptedPeer(
  reply: (command: string, socket: Socket, msg: AdbMessage) => void,
): Promise<{ id: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    const parser = new AdbMessageParser();
    socket.on('data', (chunk) => {
      for (const msg of parser.push(new Uint8Array(chunk))) reply(msg.command, socket, msg);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    id: `adb:127.0.0.1:${(server.address() as { port: number }).port}`,
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

const cnxn = encodeMessage({
  command: 'CNXN',
  arg0: 0x01000001,
  arg1: 4096,
  payload: new TextEncoder().encode('device::ro.product.name=x;features=shell_v2'),
});

describe('ADB client against the virtual adbd', () => {
  const phone = new FakePhone();
  let listener: Awaited<ReturnType<typeof listenAdb>>;
  let id: string;
  before(async () => {
    listener = await listenAdb(phone);
    id = `adb:127.0.0.1:${listener.port}`;
  });
  after(() => listener.close());

  it('creates the key pair on first use with private permissions', async () => {
    const key = await loadAdbKey(keyDir);
    assert.equal(statSync(keyDir).mode & 0o777, 0o700);
    assert.equal(statSync(join(keyDir, 'adbkey')).mode & 0o777, 0o600);
    assert.match(readFileSync(join(keyDir, 'adbkey'), 'utf8'), /^-----BEGIN PRIVATE KEY-----/);
    assert.equal(readFileSync(join(keyDir, 'adbkey.pub'), 'utf8'), key.publicKey);
    assert.equal(key.fingerprint, adbKeyFingerprint(key.publicKey));
    assert.match(key.fingerprint, /^([0-9A-F]{2}:){15}[0-9A-F]{2}$/);
  });

  it('connects, reads the banner and properties, and runs shell commands with exit status', async () => {
    const adb = await openAdb(id, { keyDir });
    try {
      assert.equal(adb.description, `adb 127.0.0.1:${listener.port}`);
      assert.equal(adb.banner.state, 'device');
      assert.equal(adb.banner.properties['ro.product.model'], 'Virtual Phone');
      assert.ok(adb.banner.features.includes('shell_v2'));
      assert.equal(await adb.getprop('ro.boot.slot_suffix'), '_a');
      assert.equal(await adb.getprop('no.such.prop'), '');
      const props = await adb.getprops();
      assert.equal(props.get('sys.boot_completed'), '1');
      assert.deepEqual(await adb.shell('exit 3'), { exitCode: 3, stdout: '', stderr: '' });
      const missing = await adb.shell('nosuch');
      assert.equal(missing.exitCode, 127);
      assert.match(missing.stderr, /not found/);
      // Several streams at once, and an answer larger than one payload (flow control).
      const [a, b, c] = await Promise.all([
        adb.shell('echo one'),
        adb.shell('medium'),
        adb.getprop('ro.product.name'),
      ]);
      assert.equal(a.stdout, 'one\n');
      assert.equal(b.stdout.length, 700_000);
      assert.equal(b.stderr, 'warn\n');
      assert.equal(c, 'virtual_phone');
      await assert.rejects(adb.shell('big'), AdbServiceError);
      assert.equal(
        await adb.getprop('ro.boot.slot_suffix'),
        '_a',
        'the connection survives a refused answer',
      );
      await assert.rejects(adb.getprop('x; reboot'), RangeError);
    } finally {
      await adb.close();
    }
  });

  it('reboots into a target and reports a refused target', async () => {
    const adb = await openAdb(id, { keyDir });
    await assert.rejects(
      adb.reboot('edl'),
      (err: unknown) => err instanceof AdbServiceError && /unknown target/.test(err.message),
    );
    const before = listener.sessions.length;
    await adb.reboot('bootloader');
    assert.deepEqual(phone.reboots, ['bootloader']);
    assert.deepEqual(await listener.sessions[before - 1], { reason: 'reboot', target: 'bootloader' });
    await assert.rejects(adb.getprop('ro.boot.slot_suffix'), DisconnectedError);
    await adb.close();
  });

  it('serves shell v1 and refuses services it does not offer', async () => {
    const adb = (await openAdb(id, { keyDir })) as AdbClientConnection;
    try {
      const v1 = adb.openStream('shell:echo v1');
      await v1.opened;
      assert.equal(Buffer.from((await v1.read()) ?? []).toString(), 'v1\n');
      assert.equal(await v1.read(), null, 'closed after the output');
      const sync = adb.openStream('sync:');
      await assert.rejects(
        sync.opened,
        (e: unknown) => e instanceof AdbServiceError && e.service === 'sync:',
      );
      assert.equal(await adb.getprop('ro.boot.slot_suffix'), '_a');
    } finally {
      await adb.close();
    }
  });

  it('authenticates with a key the device already lists (signature, no prompt)', async () => {
    const key = await loadAdbKey(keyDir);
    const strict = await listenAdb(phone, { authorizedKeys: [key.publicKey] });
    try {
      const adb = await openAdb(`adb:127.0.0.1:${strict.port}`, { keyDir, authWaitMs: 200 });
      assert.equal(await adb.getprop('ro.boot.slot_suffix'), '_a');
      await adb.close();
    } finally {
      await strict.close();
    }
  });

  it('reports an unauthorized device with the fingerprint and the remedy', async () => {
    const strict = await listenAdb(phone, { authorizedKeys: [] });
    try {
      const key = await loadAdbKey(keyDir);
      await assert.rejects(
        openAdb(`adb:127.0.0.1:${strict.port}`, { keyDir, authWaitMs: 300 }),
        (err: unknown) => {
          assert.ok(err instanceof AdbUnauthorizedError);
          assert.equal(err.fingerprint, key.fingerprint);
          assert.match(err.remedy, /Allow/);
          return true;
        },
      );
    } finally {
      await strict.close();
    }
  });
});

describe('ADB client against misbehaving peers', () => {
  it('a peer sending garbage is a protocol error', async () => {
    const peer = await scriptedPeer((_cmd, s) => s.write(Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\n')));
    try {
      await assert.rejects(openAdb(peer.id, { keyDir }), AdbProtocolError);
    } finally {
      await peer.close();
    }
  });

  it('garbage after the handshake fails the pending call with a protocol error', async () => {
    const peer = await scriptedPeer((cmd, s) => {
      if (cmd === 'CNXN') s.write(cnxn);
      else s.write(Buffer.alloc(24, 0x41));
    });
    try {
      const adb = await openAdb(peer.id, { keyDir });
      await assert.rejects(adb.shell('echo hi'), AdbProtocolError);
      await adb.close();
    } finally {
      await peer.close();
    }
  });

  it('offers its public key when the signature is refused, and connects once the owner allows it', async () => {
    const offered: string[] = [];
    const token = () =>
      encodeMessage({ command: 'AUTH', arg0: 1, arg1: 0, payload: new Uint8Array(20).fill(7) });
    const peer = await scriptedPeer((cmd, s, msg) => {
      if (cmd === 'CNXN' || (cmd === 'AUTH' && msg.arg0 === 2)) s.write(token());
      else if (cmd === 'AUTH' && msg.arg0 === 3) {
        offered.push(new TextDecoder().decode(msg.payload));
        s.write(cnxn);
      }
    });
    try {
      const adb = await openAdb(peer.id, { keyDir, authWaitMs: 2000 });
      assert.equal(adb.banner.properties['ro.product.name'], 'x');
      await adb.close();
      assert.deepEqual(offered, [`${(await loadAdbKey(keyDir)).publicKey}\0`]);
    } finally {
      await peer.close();
    }
  });

  it('keeps one WRTE in flight per stream until the device acknowledges it', async () => {
    const sizes: number[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const peer = await scriptedPeer((cmd, s, msg) => {
      const send = (command: 'OKAY', arg0: number, arg1: number) =>
        s.write(encodeMessage({ command, arg0, arg1, payload: new Uint8Array(0) }));
      if (cmd === 'CNXN') s.write(cnxn);
      else if (cmd === 'OPEN') send('OKAY', 9, msg.arg0);
      else if (cmd === 'WRTE') {
        sizes.push(msg.payload.byteLength);
        maxInFlight = Math.max(maxInFlight, ++inFlight);
        setTimeout(() => {
          inFlight--;
          send('OKAY', 9, msg.arg0);
        }, 5);
      }
    });
    try {
      const adb = (await openAdb(peer.id, { keyDir })) as AdbClientConnection;
      const stream = adb.openStream('sink:');
      await stream.write(new Uint8Array(10_000));
      assert.deepEqual(sizes, [4096, 4096, 1808], 'cut to the payload size the device announced');
      assert.equal(maxInFlight, 1);
      await stream.close();
      await adb.close();
    } finally {
      await peer.close();
    }
  });

  it('speaks shell v1 to a device without shell_v2 (no exit status)', async () => {
    const peer = await scriptedPeer((cmd, s, msg) => {
      const send = (command: 'CNXN' | 'OKAY' | 'WRTE' | 'CLSE', arg0: number, arg1: number, text = '') =>
        s.write(encodeMessage({ command, arg0, arg1, payload: new TextEncoder().encode(text) }));
      if (cmd === 'CNXN') send('CNXN', 0x01000000, 4096, 'device::ro.product.name=old;');
      else if (cmd === 'OPEN') {
        assert.equal(new TextDecoder().decode(msg.payload), 'shell:getprop ro.boot.slot_suffix\0');
        send('OKAY', 7, msg.arg0);
        send('WRTE', 7, msg.arg0, '_b\n');
        send('CLSE', 7, msg.arg0);
      }
    });
    try {
      const adb = await openAdb(peer.id, { keyDir });
      assert.deepEqual(adb.banner.features, []);
      assert.deepEqual(await adb.shell('getprop ro.boot.slot_suffix'), {
        exitCode: undefined,
        stdout: '_b\n',
        stderr: '',
      });
      await adb.close();
    } finally {
      await peer.close();
    }
  });

  it('a silent peer times out, in the handshake and in a call', async () => {
    const mute = await scriptedPeer(() => {});
    // Accepts streams, then never answers on them.
    const closes: number[] = [];
    const halfMute = await scriptedPeer((cmd, s, msg) => {
      if (cmd === 'CNXN') s.write(cnxn);
      else if (cmd === 'OPEN')
        s.write(encodeMessage({ command: 'OKAY', arg0: 5, arg1: msg.arg0, payload: new Uint8Array(0) }));
      else if (cmd === 'CLSE') closes.push(msg.arg1);
    });
    try {
      await assert.rejects(openAdb(mute.id, { keyDir, timeoutMs: 300 }), TimeoutError);
      const adb = await openAdb(halfMute.id, { keyDir });
      await assert.rejects(adb.shell('echo hi', { timeoutMs: 300 }), TimeoutError);
      for (let i = 0; i < 100 && closes.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(closes, [5], 'the timed-out stream is closed on the device');
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      await assert.rejects(adb.getprops({ signal: ac.signal, timeoutMs: 10_000 }), AbortedError);
      await adb.close();
    } finally {
      await mute.close();
      await halfMute.close();
    }
  });

  it('cancelling the handshake is an AbortedError', async () => {
    const mute = await scriptedPeer(() => {});
    try {
      const ac = new AbortController();
      setTimeout(() => ac.abort(), 100);
      await assert.rejects(openAdb(mute.id, { keyDir, signal: ac.signal, timeoutMs: 10_000 }), AbortedError);
    } finally {
      await mute.close();
    }
  });

  it('a peer that hangs up is a DisconnectedError; a bad id is refused with the valid forms', async () => {
    const rude = await scriptedPeer((_cmd, s) => s.destroy());
    try {
      await assert.rejects(openAdb(rude.id, { keyDir }), DisconnectedError);
    } finally {
      await rude.close();
    }
    await assert.rejects(openAdb('tcp:127.0.0.1:5554', { keyDir }), /adb:HOST:PORT/);
    await assert.rejects(openAdb('adb:', { keyDir }), /adb:HOST:PORT/);
  });
});
