import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { MAX_COMMAND_LENGTH } from '../../../main/protocol/fastboot/wire.js';
import { VirtualDevice } from '../../../virtual-device/device.js';
import {
  type PacketLink,
  type PacketRequest,
  SendTimeoutError,
  type SessionEnd,
  serveFastbootPackets,
} from '../../../virtual-device/packet-session.js';
import { ReadTimeoutError } from '../../../virtual-device/stream-reader.js';
import { KiB, SMALL_PARTITIONS, tempDir } from './helpers/fixtures.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/**
 * A scripted host on the packet seam: each `receive` hands over the next queued packet (or end of link), and
 * records what the session asked for, as a USB gadget would see it. Replies are collected as text.
 */
class ScriptedLink implements PacketLink {
  readonly requests: PacketRequest[] = [];
  readonly replies: string[] = [];
  #queue: (Uint8Array | null)[] = [];

  push(...packets: (Uint8Array | string | null)[]): this {
    for (const p of packets) this.#queue.push(typeof p === 'string' ? Buffer.from(p, 'latin1') : p);
    return this;
  }

  async receive(request: PacketRequest): Promise<Uint8Array | null> {
    this.requests.push(request);
    return this.#queue.length > 0 ? (this.#queue.shift() ?? null) : null;
  }

  async send(packet: Uint8Array): Promise<void> {
    this.replies.push(Buffer.from(packet).toString('latin1'));
  }
}

async function newDevice(t: { after: (fn: () => Promise<void>) => void }): Promise<VirtualDevice> {
  const device = new VirtualDevice({
    profile: 'reference',
    stateDir: await tempDir(t),
    product: 'flashline-virtual',
    serial: 'PKT0001',
    hardwareRevision: 'test',
    partitions: SMALL_PARTITIONS,
    maxDownloadSize: 2048 * KiB,
    maxRetries: 3,
    bootloaderVersion: 'test-bl',
    batteryLevel: 90,
    factoryVersion: '1.0.0',
    faults: {},
  });
  await device.exclusive(() => device.powerOn('os'));
  return device;
}

async function serve(device: VirtualDevice, link: ScriptedLink): Promise<SessionEnd> {
  return serveFastbootPackets(link, device, { stallTimeoutMs: 5_000, idleTimeoutMs: 5_000 });
}

test('commands on the packet seam: one packet in, one response packet out per reply', async (t) => {
  const device = await newDevice(t);
  const link = new ScriptedLink().push('getvar:current-slot', 'getvar:serialno', 'frobnicate', 'oem help');
  assert.deepEqual(await serve(device, link), { reason: 'closed' });
  assert.deepEqual(link.replies, [
    'OKAYa',
    'OKAYPKT0001',
    "FAILunknown command 'frobnicate'",
    'INFOoem sha256 PARTITION | oem mark-successful | oem help',
    'OKAY',
  ]);
  assert.ok(link.requests.every((r) => r.phase === 'command' && r.maxLength === MAX_COMMAND_LENGTH));
});

test('a download in one packet, then flash: the partition holds the bytes', async (t) => {
  const device = await newDevice(t);
  const data = randomBytes(100 * KiB);
  const hex = data.byteLength.toString(16).padStart(8, '0');
  const link = new ScriptedLink().push(`download:${hex}`, data, 'flash:boot_b', 'oem sha256 boot_b');
  assert.deepEqual(await serve(device, link), { reason: 'closed' });
  assert.deepEqual(link.replies, [`DATA${hex}`, 'OKAY', 'OKAY', `INFO${sha(data)}`, 'OKAY']);
  assert.deepEqual(link.requests[1], { phase: 'data', maxLength: data.byteLength, timeoutMs: 5_000 });
});

test('a download in many uneven packets counts bytes, and the session asks only for what is still due', async (t) => {
  const device = await newDevice(t);
  const data = randomBytes(300 * KiB + 17);
  const hex = data.byteLength.toString(16).padStart(8, '0');
  const cuts = [1, 4095, 65_536, 100_000, data.byteLength];
  const pieces = cuts.map((end, i) => data.subarray(i === 0 ? 0 : cuts[i - 1], end));
  const link = new ScriptedLink().push(`download:${hex}`, ...pieces, 'flash:boot_b', 'oem sha256 boot_b');
  assert.deepEqual(await serve(device, link), { reason: 'closed' });
  assert.deepEqual(link.replies.slice(0, 3), [`DATA${hex}`, 'OKAY', 'OKAY']);
  assert.equal(link.replies[3], `INFO${sha(data)}`);
  const due = link.requests.filter((r) => r.phase === 'data').map((r) => r.maxLength);
  let left = data.byteLength;
  assert.deepEqual(
    due,
    pieces.map((p) => {
      const d = left;
      left -= p.byteLength;
      return d;
    }),
  );
});

test('malformed packets: empty gets FAIL and the session goes on; oversized and overrun end it', async (t) => {
  const device = await newDevice(t);
  const empty = new ScriptedLink().push(new Uint8Array(0), 'getvar:slot-count');
  assert.deepEqual(await serve(device, empty), { reason: 'closed' });
  assert.deepEqual(empty.replies, ['FAILempty command', 'OKAY2']);

  const big = new ScriptedLink().push(Buffer.alloc(MAX_COMMAND_LENGTH + 1, 0x41), 'getvar:slot-count');
  assert.deepEqual(await serve(device, big), { reason: 'protocol-error', message: 'oversized command' });
  assert.deepEqual(big.replies, [
    `FAILcommand of ${MAX_COMMAND_LENGTH + 1} bytes exceeds ${MAX_COMMAND_LENGTH}`,
  ]);

  const over = new ScriptedLink().push('download:00000010', Buffer.alloc(17));
  assert.deepEqual(await serve(device, over), { reason: 'protocol-error', message: 'download overran' });
  assert.deepEqual(over.replies, ['DATA00000010', 'FAILdownload overran: 1 bytes beyond 16']);

  // The device is still consistent for the next session.
  const next = new ScriptedLink().push('getvar:current-slot');
  assert.deepEqual(await serve(device, next), { reason: 'closed' });
  assert.deepEqual(next.replies, ['OKAYa']);
});

test('a link that fails or times out ends the session as closed or timeout; reboot ends it as reboot', async (t) => {
  const device = await newDevice(t);
  const gone: PacketLink = {
    receive: async () => Buffer.from('getvar:product'),
    send: async () => {
      throw new Error('EPIPE');
    },
  };
  assert.deepEqual(await serveFastbootPackets(gone, device), { reason: 'closed' });
  const stuck: PacketLink = {
    receive: async () => Buffer.from('getvar:product'),
    send: async (_packet, timeoutMs) => {
      throw new SendTimeoutError(timeoutMs);
    },
  };
  assert.deepEqual(await serveFastbootPackets(stuck, device, { stallTimeoutMs: 1234 }), {
    reason: 'timeout',
    message: 'the host did not take a response for 1234 ms',
  });
  const silent: PacketLink = {
    receive: async (request) => {
      throw new ReadTimeoutError(request.timeoutMs);
    },
    send: async () => {},
  };
  assert.deepEqual(await serveFastbootPackets(silent, device, { idleTimeoutMs: 4321 }), {
    reason: 'timeout',
    message: 'no data from the host for 4321 ms',
  });
  const link = new ScriptedLink().push('reboot-bootloader', 'getvar:product');
  assert.deepEqual(await serve(device, link), { reason: 'reboot', into: 'bootloader' });
  assert.deepEqual(link.replies, ['OKAY']);
});
