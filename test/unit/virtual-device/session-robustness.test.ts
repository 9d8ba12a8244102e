import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import fc from 'fast-check';
import { encodeFrame, encodeFrameHeader } from '../../../main/protocol/fastboot/tcp-framing.js';
import { decodeResponse, encodeCommand } from '../../../main/protocol/fastboot/wire.js';
import { image, KiB, link, startSmallDevice } from './helpers/fixtures.js';
import { MiniClient } from './helpers/mini-client.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const failMessage = (r: { final: { type: string } }) => ('message' in r.final ? String(r.final.message) : '');

async function closedSoon(c: MiniClient): Promise<void> {
  await assert.rejects(c.frame(10_000), /closed/);
}

test('a bad handshake closes that connection only', async (t) => {
  const vd = await startSmallDevice(t);
  await vd.whenUp();
  const bad = new MiniClient(vd.connect());
  bad.sendRaw(Buffer.from('HELLO'));
  await closedSoon(bad);
  const c = await link(vd);
  assert.equal(await c.getvar('current-slot'), 'a');
});

test('unknown, empty and malformed commands get FAIL with a reason and the session goes on', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  assert.match(failMessage(await c.command('frobnicate')), /unknown command 'frobnicate'/);
  assert.match(failMessage(await c.command('getvar:no-such-var')), /unknown variable/);
  assert.match(failMessage(await c.command('oem self-destruct')), /unknown oem command/);
  assert.match(failMessage(await c.command('oem sha256')), /unknown oem command/);
  assert.match(failMessage(await c.command('download:xyz')), /hex/);
  assert.match(failMessage(await c.command('download:00000000')), /at least 1 byte/);
  assert.match(failMessage(await c.command('download:ffffffff')), /max-download-size/);
  assert.match(failMessage(await c.command('flash:boot_a')), /no image downloaded/);
  assert.match(failMessage(await c.command('flash:nope')), /unknown partition/);
  assert.match(failMessage(await c.command('set_active:c')), /invalid slot/);
  c.sendRaw(encodeFrame(new Uint8Array(0)));
  assert.match(failMessage(await c.reply()), /empty command/);
  c.sendRaw(encodeFrame(Buffer.from([0x67, 0xff, 0x00, 0x80])));
  assert.equal((await c.reply()).final.type, 'FAIL');
  assert.equal(await c.getvar('current-slot'), 'a');
});

test('an oversized command is refused and the connection closed; the device stays up', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  c.sendRaw(encodeFrameHeader(1 << 30));
  c.sendRaw(Buffer.alloc(5000, 0x41));
  assert.match(failMessage(await c.reply()), /exceeds 4096/);
  await closedSoon(c);
  const c2 = await link(vd);
  assert.equal(await c2.getvar('slot-count'), '2');
});

test('random command packets never crash the device or leave it without an answer', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 300 }), async (bytes) => {
      const text = Buffer.from(bytes).toString('latin1');
      fc.pre(!/^(reboot|download|flash|erase|set_active|oem mark)/.test(text));
      c.sendRaw(encodeFrame(bytes));
      const r = await c.reply();
      assert.ok(r.final.type === 'OKAY' || r.final.type === 'FAIL');
    }),
    { numRuns: 150, seed: 4242 },
  );
  assert.equal(await c.getvar('current-slot'), 'a');
});

test('download data may come in one frame, in tiny frames, or coalesced with the command', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  const img = await image('2.0.0', 0, 96 * KiB);
  for (const frameSize of [img.byteLength, 1000, 7]) {
    const d = await c.download(img, img.byteLength, frameSize);
    assert.equal(d.final.type, 'OKAY');
    await c.okay('flash:boot_b');
    assert.equal(await c.sha256('boot_b'), sha(img));
  }
  // Command and all data in a single write.
  const small = Buffer.alloc(10_000, 0x5a);
  c.sendRaw(
    Buffer.concat([
      encodeFrame(encodeCommand(`download:${small.byteLength.toString(16).padStart(8, '0')}`)),
      encodeFrame(small),
    ]),
  );
  assert.equal(decodeResponse(await c.frame()).type, 'DATA');
  assert.equal((await c.reply()).final.type, 'OKAY');
  await c.okay('flash:misc');
  assert.equal(await c.sha256('misc'), sha(small));
});

test('a download frame that overruns the announced size is refused', async (t) => {
  const vd = await startSmallDevice(t);
  const c = await link(vd);
  assert.equal((await c.command('download:00000010')).final.type, 'DATA');
  c.sendRaw(encodeFrame(Buffer.alloc(32)));
  assert.match(failMessage(await c.reply()), /overran/);
  await closedSoon(c);
  const c2 = await link(vd);
  assert.match(failMessage(await c2.command('flash:misc')), /no image downloaded/);
});

test('a client that disconnects mid-download leaves the device up and consistent', async (t) => {
  const vd = await startSmallDevice(t);
  const before = vd.device.bootControl;
  const c = await link(vd);
  assert.equal((await c.command('download:00010000')).final.type, 'DATA');
  c.sendRaw(encodeFrame(Buffer.alloc(30_000, 1)));
  c.close();
  const c2 = await link(vd);
  assert.match(failMessage(await c2.command('flash:boot_b')), /no image downloaded/);
  assert.deepEqual(vd.device.bootControl, before);
  const img = await image('2.0.0', 0);
  await c2.flashBytes('boot_b', img);
  assert.equal(await c2.sha256('boot_b'), sha(img));
});

test('--drop-at-byte pulls the cable once, mid-download; the retry succeeds', async (t) => {
  const vd = await startSmallDevice(t, { faults: { dropAtByte: 20_000 } });
  const img = await image('2.0.0', 0);
  const c = await link(vd);
  await assert.rejects(c.download(img, img.byteLength, 4096), /closed/);
  const c2 = await link(vd);
  assert.match(failMessage(await c2.command('flash:boot_b')), /no image downloaded/);
  await c2.flashBytes('boot_b', img);
  assert.equal(await c2.sha256('boot_b'), sha(img));
});

test('--garbage-replies sends packets a host must reject', async (t) => {
  const vd = await startSmallDevice(t, { faults: { garbageReplies: true } });
  const c = await link(vd);
  for (let i = 0; i < 6; i++) {
    c.sendRaw(encodeFrame(encodeCommand('getvar:product')));
    const frame = await c.frame();
    assert.throws(() => decodeResponse(frame));
  }
});

test('--latency and --rate slow the link but keep every byte right', async (t) => {
  const vd = await startSmallDevice(t, { faults: { latencyMs: 5, rateBytesPerSecond: 4 * 1024 * 1024 } });
  const c = await link(vd);
  const img = await image('2.0.0', 0, 128 * KiB);
  await c.flashBytes('boot_b', img);
  assert.equal(await c.sha256('boot_b'), sha(img));
});

test('a host that stalls mid-packet is disconnected after the stall timeout; the device stays up', async (t) => {
  const vd = await startSmallDevice(t, { session: { stallTimeoutMs: 200 } });
  const c = await link(vd);
  c.sendRaw(encodeFrameHeader(20));
  c.sendRaw(Buffer.from('getvar:'));
  await closedSoon(c);
  const c2 = await link(vd);
  assert.equal(await c2.getvar('slot-count'), '2');
});
