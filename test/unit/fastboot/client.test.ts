import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import {
  FastbootClient,
  FastbootFailError,
  type FastbootMessage,
  FastbootProtocolError,
  getSlotInfo,
  hasSlot,
  normalizeSlot,
  otherSlot,
  parseSizeVar,
  resolvePartition,
} from '../../../main/protocol/fastboot/index.js';
import {
  AbortedError,
  createDuplexPair,
  DisconnectedError,
  framedPacketLink,
  handshake,
  memoryLink,
  TimeoutError,
} from '../../../main/transport/index.js';
import { FakeFastboot, serveFake } from './fake-peer.js';

async function connect(fake = new FakeFastboot(), opts: { responseTimeoutMs?: number } = {}) {
  const [host, dev] = createDuplexPair();
  const served = serveFake(dev, fake);
  const stream = memoryLink(host);
  await handshake(stream);
  const client = new FastbootClient(framedPacketLink(stream), opts);
  return { client, fake, dev, served };
}

async function* pattern(size: number, chunk = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let off = 0; off < size; off += chunk) {
    const c = new Uint8Array(Math.min(chunk, size - off));
    for (let i = 0; i < c.length; i++) c[i] = (off + i) % 251;
    yield c;
  }
}

function patternHash(size: number): string {
  const h = createHash('sha256');
  const all = new Uint8Array(size);
  for (let i = 0; i < size; i++) all[i] = i % 251;
  return h.update(all).digest('hex');
}

describe('fastboot client (scripted peer over an in-process link)', () => {
  it('reads variables and getvar all (names with colons included)', async () => {
    const { client, fake } = await connect();
    fake.vars.set('partition-size:boot', '0x4000000');
    assert.equal(await client.getvar('product'), 'fakephone');
    const all = await client.getvarAll();
    assert.equal(all.get('partition-size:boot'), '0x4000000');
    assert.equal(all.get('serialno'), 'FAKE123');
    fake.handler = (cmd) =>
      cmd === 'getvar:all'
        ? [
            { type: 'INFO', message: 'partition-size:boot:0x2000' },
            { type: 'INFO', message: 'product:fastbootd-style' },
            { type: 'OKAY', message: '' },
          ]
        : undefined;
    const aosp = await client.getvarAll();
    assert.deepEqual(
      [...aosp],
      [
        ['partition-size:boot', '0x2000'],
        ['product', 'fastbootd-style'],
      ],
    );
    await client.close();
  });

  it('turns FAIL into FastbootFailError keeping the device text apart', async () => {
    const { client } = await connect();
    const err = await client.getvar('nope').catch((e: unknown) => e);
    assert.ok(err instanceof FastbootFailError);
    assert.equal(err.deviceMessage, 'GetVar Variable Not found');
    assert.equal(err.command, 'getvar:nope');
    assert.equal(err.code, 'fastboot_fail');
    assert.deepEqual(err.toData().detail, {
      command: 'getvar:nope',
      deviceMessage: 'GetVar Variable Not found',
    });
    await client.close();
  });

  it('emits INFO and TEXT as events and returns INFO lines', async () => {
    const { client, fake } = await connect();
    fake.handler = (cmd) =>
      cmd === 'oem hello'
        ? [
            { type: 'INFO', message: 'line 1' },
            { type: 'TEXT', message: 'raw text' },
            { type: 'OKAY', message: 'done' },
          ]
        : undefined;
    const seen: FastbootMessage[] = [];
    client.events.on('message', (m) => seen.push(m));
    const r = await client.oem('hello');
    assert.equal(r.message, 'done');
    assert.deepEqual(r.info, ['line 1']);
    assert.deepEqual(seen, [
      { command: 'oem hello', type: 'INFO', text: 'line 1' },
      { command: 'oem hello', type: 'TEXT', text: 'raw text' },
    ]);
    await client.close();
  });

  it('times out a silent device with TimeoutError', async () => {
    const { client, fake } = await connect(undefined, { responseTimeoutMs: 100 });
    fake.handler = (cmd) => (cmd === 'erase:userdata' ? [] : undefined);
    await assert.rejects(client.erase('userdata'), TimeoutError);
    // Out of step with the device now: the client closed the link rather than read a late reply.
    assert.ok(client.link.isClosed);
    await assert.rejects(client.getvar('product'), DisconnectedError);
  });

  it('restarts the response timeout on every INFO (a slow but talking device is not timed out)', async () => {
    const { client, fake } = await connect(undefined, { responseTimeoutMs: 600 });
    // 6 INFOs 250 ms apart: 1.5 s in total, far beyond one timeout, never 600 ms of silence.
    fake.handler = (cmd) =>
      cmd === 'erase:userdata'
        ? [
            ...Array.from({ length: 6 }, (_, i) => [
              { delayMs: 250 },
              { type: 'INFO' as const, message: `erasing ${i}` },
            ]).flat(),
            { type: 'OKAY', message: '' },
          ]
        : undefined;
    const r = await client.erase('userdata');
    assert.equal(r.info.length, 6);
    await client.close();
  });

  it('downloads a streamed image of known size and flashes it', async () => {
    const { client, fake } = await connect();
    fake.vars.set('max-download-size', String(8 << 20));
    const size = 3 * 1024 * 1024 + 17;
    const progress: number[] = [];
    await client.download(size, pattern(size), { onProgress: (d) => progress.push(d) });
    await client.flash('boot_a');
    assert.equal(fake.downloads[0]?.size, size);
    assert.equal(fake.downloads[0]?.sha256, patternHash(size));
    assert.equal(fake.flashed[0]?.partition, 'boot_a');
    assert.equal(progress.at(-1), size);
    assert.deepEqual(fake.commands, [`download:${size.toString(16).padStart(8, '0')}`, 'flash:boot_a']);
    await client.close();
  });

  it('rejects a DATA size different from the one announced', async () => {
    const { client, fake } = await connect();
    fake.handler = (cmd) => (cmd.startsWith('download:') ? [{ type: 'DATA', size: 5 }] : undefined);
    await assert.rejects(client.download(4, pattern(4)), FastbootProtocolError);
    await client.close();
  });

  it('rejects malformed replies as FastbootProtocolError', async () => {
    const { client, fake } = await connect();
    fake.handler = (cmd) => (cmd === 'getvar:x' ? [{ raw: new TextEncoder().encode('WHAT?') }] : undefined);
    const err = await client.getvar('x').catch((e: unknown) => e);
    assert.ok(err instanceof FastbootProtocolError);
    assert.match(err.message, /getvar:x/);
    await client.close();
  });

  it('fails with DisconnectedError when the device vanishes mid-download', async () => {
    const { client, fake, dev } = await connect();
    fake.vars.set('max-download-size', String(64 << 20));
    const size = 32 << 20;
    let pulled = 0;
    const source = (async function* () {
      for await (const c of pattern(size)) {
        pulled += c.byteLength;
        if (pulled === 1 << 20) dev.destroy();
        yield c;
      }
    })();
    await assert.rejects(client.download(size, source), DisconnectedError);
    assert.ok(pulled < size);
  });

  it('cancels a call with its AbortSignal', async () => {
    const { client, fake } = await connect();
    fake.handler = (cmd) => (cmd === 'reboot' ? [] : undefined);
    const ac = new AbortController();
    const p = client.reboot(undefined, { signal: ac.signal });
    setImmediate(() => ac.abort());
    await assert.rejects(p, AbortedError);
    await client.close();
  });

  it('serialises concurrent calls (one exchange at a time)', async () => {
    const { client } = await connect();
    const [a, b, c] = await Promise.all([
      client.getvar('product'),
      client.getvar('serialno'),
      client.getvar('slot-count'),
    ]);
    assert.deepEqual([a, b, c], ['fakephone', 'FAKE123', '2']);
    await client.close();
  });
});

describe('slots (as the AOSP client)', () => {
  it('normalises and picks the other slot', () => {
    assert.equal(normalizeSlot('_b'), 'b');
    assert.equal(normalizeSlot('a'), 'a');
    assert.equal(normalizeSlot('zz'), undefined);
    assert.equal(otherSlot('a', 2), 'b');
    assert.equal(otherSlot('b', 2), 'a');
    assert.throws(() => otherSlot('a', 1), RangeError);
  });

  it('suffixes slotted partitions with the current or other slot', async () => {
    const { client, fake } = await connect();
    fake.vars.set('current-slot', '_b');
    assert.deepEqual(await getSlotInfo(client), { count: 2, current: 'b' });
    assert.equal(await hasSlot(client, 'boot'), true);
    assert.equal(await hasSlot(client, 'vendor'), false, 'FAIL on has-slot means no');
    assert.equal(await resolvePartition(client, 'boot'), 'boot_b');
    assert.equal(await resolvePartition(client, 'boot', 'other'), 'boot_a');
    assert.equal(await resolvePartition(client, 'misc'), 'misc');
    assert.equal(await resolvePartition(client, 'boot_a'), 'boot_a');
    await client.close();
  });

  it('parses size variables as strtoll base 0', () => {
    assert.equal(parseSizeVar('0x10000'), 65536);
    assert.equal(parseSizeVar('4096'), 4096);
    assert.equal(parseSizeVar('huge'), undefined);
  });
});
