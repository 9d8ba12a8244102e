/**
 * The fastboot client against the real virtual device over TCP, in-process and a socat pty pair; images go
 * through the engine's planner and sender (main/flash/send-pieces.ts), as a job sends them.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { FastbootSession } from '../../../main/flash/adapters/fastboot.js';
import { flashPlannedImage } from '../../../main/flash/send-pieces.js';
import {
  FastbootClient,
  FastbootFailError,
  getSlotInfo,
  openFastboot,
  resolvePartition,
} from '../../../main/protocol/fastboot/index.js';
import {
  DisconnectedError,
  framedPacketLink,
  handshake,
  memoryLink,
  openSerial,
} from '../../../main/transport/index.js';
import { startVirtualDevice } from '../../../virtual-device/index.js';

type Handle = Awaited<ReturnType<typeof startVirtualDevice>>;

function image(size: number, seed: number): Buffer {
  const img = Buffer.alloc(size);
  for (let i = 0; i < size; i++) img[i] = (i * seed + (i >> 12)) & 0xff;
  return img;
}

async function* chunks(buf: Buffer, n = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < buf.length; o += n) yield buf.subarray(o, o + n);
}

/** What the partition holds after flashing: the image padded to whole 4 KiB blocks, as libsparse does. */
function blockSha(img: Buffer): string {
  const padded = Buffer.alloc(Math.ceil(img.length / 4096) * 4096);
  img.copy(padded);
  return createHash('sha256').update(padded).digest('hex');
}

/** A raw image that fits is written as it is. */
function sha(img: Buffer): string {
  return createHash('sha256').update(img).digest('hex');
}

/** Flash a raw image with the engine's planner and sender over the client's link. */
function flashRaw(client: FastbootClient, partition: string, img: Buffer) {
  return flashPlannedImage(new FastbootSession(client), partition, { size: img.length, sparse: false }, () =>
    chunks(img),
  );
}

async function partitionSha(client: FastbootClient, partition: string): Promise<string> {
  return (await client.oem(`sha256 ${partition}`)).info[0] ?? '';
}

describe('fastboot client against the virtual device', () => {
  let vd: Handle;
  before(async () => {
    vd = await startVirtualDevice({ maxDownloadSize: 1 << 20, pty: true, bootDelayMs: 50 });
  });
  after(async () => {
    await vd.stop();
  });

  it('over TCP: reads all variables, flashes an image larger than max-download-size as sparse pieces', async () => {
    const client = await openFastboot(vd.address);
    const vars = await client.getvarAll();
    assert.equal(vars.get('product'), 'flashline-virtual');
    assert.equal(vars.get('partition-size:boot_a'), `0x${(96 * 1024 * 1024).toString(16)}`);
    const slots = await getSlotInfo(client);
    assert.equal(slots.count, 2);
    const target = await resolvePartition(client, 'boot', 'other');
    assert.equal(target, `boot_${slots.current === 'a' ? 'b' : 'a'}`);
    const img = image(3 * 1024 * 1024 + 5, 13);
    const r = await flashRaw(client, target, img);
    assert.ok(r.pieces.length > 1);
    assert.equal(await partitionSha(client, target), blockSha(img));
    await client.close();
  });

  it('over TCP: an image that fits goes in one download; FAIL keeps the device text', async () => {
    const client = await openFastboot(vd.address);
    const img = image(300_000, 7);
    const r = await flashRaw(client, 'misc', img);
    assert.equal(r.pieces.length, 1);
    assert.equal(await partitionSha(client, 'misc'), sha(img));
    const err = await client.flash('no-such-partition').catch((e: unknown) => e);
    assert.ok(err instanceof FastbootFailError);
    assert.ok(err.deviceMessage.length > 0);
    assert.match(err.message, /no-such-partition/);
    await client.close();
  });

  it('in-process: the same client over a Duplex pair', async () => {
    const stream = memoryLink(vd.connect());
    await handshake(stream);
    const client = new FastbootClient(framedPacketLink(stream));
    assert.equal(await client.getvar('product'), 'flashline-virtual');
    const img = image(200_000, 3);
    await flashRaw(client, 'misc', img);
    assert.equal(await partitionSha(client, 'misc'), sha(img));
    await client.close();
  });

  it('over a serial pty: FB01 framing on a serial line', async () => {
    assert.ok(vd.ptyPath);
    const client = new FastbootClient(await openSerial({ path: vd.ptyPath }));
    assert.equal(await client.getvar('product'), 'flashline-virtual');
    const img = image(100_000, 5);
    await flashRaw(client, 'misc', img);
    assert.equal(await partitionSha(client, 'misc'), sha(img));
    await client.close();
  });

  it('a reboot drops the link as DisconnectedError; the device answers again once up', async () => {
    const client = await openFastboot(vd.address);
    await client.reboot();
    const gone = await client.link.disconnected;
    assert.ok(gone instanceof DisconnectedError);
    await assert.rejects(client.getvar('product'), DisconnectedError);
    await vd.whenUp();
    const again = await openFastboot(vd.address);
    assert.equal(await again.getvar('product'), 'flashline-virtual');
    await again.close();
  });
});
