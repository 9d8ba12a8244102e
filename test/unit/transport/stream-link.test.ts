import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { encodeFrame, TCP_HANDSHAKE } from '../../../main/protocol/fastboot/tcp-framing.js';
import {
  AbortedError,
  createDuplexPair,
  DisconnectedError,
  FRAMED_HANDSHAKE,
  framedPacketLink,
  handshake,
  memoryLink,
  OpenError,
  TimeoutError,
} from '../../../main/transport/index.js';

const bytes = (s: string) => new TextEncoder().encode(s);
const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('in-process stream link', () => {
  it('carries bytes both ways and reads exact lengths across chunks', async () => {
    const [a, b] = createDuplexPair();
    const la = memoryLink(a);
    const lb = memoryLink(b);
    await la.write(bytes('hel'));
    await la.write(bytes('lo world'));
    assert.equal(text(await lb.readExactly(5)), 'hello');
    assert.equal(text(await lb.readExactly(6)), ' world');
    await lb.write(bytes('back'));
    assert.equal(text(await la.read()), 'back');
    await la.close();
    await lb.close();
  });

  it('fails a pending read with DisconnectedError when the peer goes away (no hang)', async () => {
    const [a, b] = createDuplexPair();
    const la = memoryLink(a);
    const pending = la.read({ timeoutMs: 60_000 });
    b.destroy();
    await assert.rejects(pending, DisconnectedError);
    assert.ok(la.isClosed);
    assert.ok((await la.disconnected) instanceof DisconnectedError);
    await assert.rejects(la.write(bytes('x')), DisconnectedError);
  });

  it('hands over buffered bytes before reporting the disconnect', async () => {
    const [a, b] = createDuplexPair();
    const la = memoryLink(a);
    b.write(Buffer.from('last words'));
    b.end();
    assert.equal(text(await la.readExactly(10)), 'last words');
    await assert.rejects(la.read(), DisconnectedError);
  });

  it('times out a read with TimeoutError and stays usable', async () => {
    const [a, b] = createDuplexPair();
    const la = memoryLink(a);
    await assert.rejects(la.read({ timeoutMs: 20 }), TimeoutError);
    b.write(Buffer.from('ok'));
    assert.equal(text(await la.read()), 'ok');
    await la.close();
  });

  it('cancels a read with AbortedError', async () => {
    const [a] = createDuplexPair();
    const la = memoryLink(a);
    const ac = new AbortController();
    const pending = la.read({ signal: ac.signal });
    ac.abort();
    await assert.rejects(pending, AbortedError);
    await assert.rejects(la.read({ signal: ac.signal }), AbortedError);
    await la.close();
  });

  it('applies backpressure: a writer with no reader waits, then fails on its deadline', async () => {
    const [a] = createDuplexPair();
    const la = memoryLink(a);
    const big = new Uint8Array(64 * 1024);
    let err: unknown;
    for (let i = 0; i < 200 && !err; i++) {
      await la.write(big, { timeoutMs: 50 }).catch((e: unknown) => {
        err = e;
      });
    }
    assert.ok(err instanceof TimeoutError, 'the writer eventually waits for drain and times out');
    await la.close();
  });
});

describe('framed packet link (FB01 + 8-byte length)', () => {
  it('mirrors the shared codec constants', () => {
    assert.equal(FRAMED_HANDSHAKE, TCP_HANDSHAKE);
  });

  it('rejects a peer that does not answer the handshake with FBnn', async () => {
    const [a, b] = createDuplexPair();
    const la = memoryLink(a);
    b.on('data', () => b.write('HTTP'));
    await assert.rejects(handshake(la), (e: unknown) => e instanceof OpenError && /HTTP/.test(e.message));
    await la.close();
  });

  it('receives every packet whatever the split or coalescing of the byte stream', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.uint8Array({ minLength: 1, maxLength: 300 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 10 }),
        async (packets, cuts) => {
          const [a, b] = createDuplexPair();
          const link = framedPacketLink(memoryLink(a));
          const stream = Buffer.concat(packets.map(encodeFrame));
          let off = 0;
          let i = 0;
          while (off < stream.length) {
            const n = cuts[i++ % cuts.length]!;
            b.write(stream.subarray(off, off + n));
            off += n;
          }
          for (const p of packets) assert.deepEqual(await link.receive({ timeoutMs: 5000 }), p);
          await link.close();
        },
      ),
      { numRuns: 60 },
    );
  });

  it('sends a data phase as one frame and checks the announced size', async () => {
    const [a, b] = createDuplexPair();
    const link = framedPacketLink(memoryLink(a));
    const received: Buffer[] = [];
    b.on('data', (c: Buffer) => received.push(c));
    const chunks = [new Uint8Array(1000).fill(1), new Uint8Array(24).fill(2)];
    const progress: number[] = [];
    await link.sendData(
      1024,
      (async function* () {
        yield* chunks;
      })(),
      { onProgress: (d) => progress.push(d) },
    );
    await new Promise(setImmediate);
    const all = Buffer.concat(received);
    assert.equal(all.readBigUInt64BE(0), 1024n);
    assert.equal(all.length, 8 + 1024);
    assert.deepEqual(progress, [1000, 1024]);
    await assert.rejects(
      link.sendData(
        10,
        (async function* () {
          yield new Uint8Array(4);
        })(),
      ),
      RangeError,
    );
    await assert.rejects(
      link.sendData(
        2,
        (async function* () {
          yield new Uint8Array(4);
        })(),
      ),
      RangeError,
    );
    await link.close();
  });

  it('closes the link when a response frame is absurdly large', async () => {
    const [a, b] = createDuplexPair();
    const link = framedPacketLink(memoryLink(a));
    const h = Buffer.alloc(8);
    h.writeBigUInt64BE(1n << 40n);
    b.write(h);
    await assert.rejects(link.receive({ maxLength: 256 }), DisconnectedError);
    assert.ok(link.isClosed);
  });
});

describe('framed data phase over TCP: a source may reuse its buffer once the next chunk is pulled', () => {
  it('the peer receives every byte although the source overwrites one buffer after every pull', async () => {
    const { createServer } = await import('node:net');
    const { openTcpStream } = await import('../../../main/transport/index.js');
    const chunk = 256 * 1024;
    const chunks = 64; // 16 MiB: far more than the socket buffers, so the sender meets backpressure
    const expected = (i: number) => i % 251;
    let received = 0;
    let wrong = -1;
    const server = createServer((socket) => {
      // Read slowly at first so the sender's queue fills (a sender holding chunks would see them overwritten).
      socket.pause();
      setTimeout(() => socket.resume(), 200);
      let skip = 8; // the frame header
      socket.on('data', (d: Buffer) => {
        let at = 0;
        if (skip > 0) {
          at = Math.min(skip, d.byteLength);
          skip -= at;
        }
        for (; at < d.byteLength; at++, received++) {
          if (wrong < 0 && d[at] !== expected(Math.floor(received / chunk))) wrong = received;
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const link = framedPacketLink(await openTcpStream({ host: '127.0.0.1', port }));
    const buffer = new Uint8Array(chunk);
    async function* reused() {
      for (let i = 0; i < chunks; i++) {
        buffer.fill(expected(i));
        yield buffer;
      }
    }
    await link.sendData(chunk * chunks, reused());
    while (received < chunk * chunks) await new Promise((r) => setTimeout(r, 10));
    await link.close();
    server.close();
    assert.equal(wrong, -1, `byte ${wrong} differs from what was sent`);
    assert.equal(received, chunk * chunks);
  });
});
