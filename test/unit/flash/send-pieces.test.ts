import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createReadStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FastbootSession } from '../../../main/flash/adapters/fastboot.js';
import { flashPlannedImage } from '../../../main/flash/send-pieces.js';
import { FastbootClient } from '../../../main/protocol/fastboot/index.js';
import { decodeSparse, isSparseHeader } from '../../../main/protocol/fastboot/sparse/index.js';
import { createDuplexPair, framedPacketLink, handshake, memoryLink } from '../../../main/transport/index.js';
import { FakeFastboot, serveFake } from '../fastboot/fake-peer.js';

async function connect(maxDownload: number) {
  const fake = new FakeFastboot();
  fake.vars.set('max-download-size', `0x${maxDownload.toString(16)}`);
  fake.keepBytes = 64 << 20;
  const [host, dev] = createDuplexPair();
  void serveFake(dev, fake);
  const stream = memoryLink(host);
  await handshake(stream);
  const client = new FastbootClient(framedPacketLink(stream));
  return { client, session: new FastbootSession(client), fake };
}

/** A raw image with data, zero and repeated-word regions, and a partial last block. */
function makeImage(size: number): Uint8Array {
  const img = new Uint8Array(size);
  for (let i = 0; i < size; i++) {
    const block = Math.floor(i / 4096);
    img[i] = block % 5 === 1 ? 0 : block % 5 === 2 ? 0xab : (i * 7 + block) & 0xff;
  }
  return img;
}

async function* chunked(bytes: Uint8Array, chunk = 10_000): AsyncGenerator<Uint8Array> {
  for (let o = 0; o < bytes.length; o += chunk) yield bytes.subarray(o, o + chunk);
}

/** Apply downloaded pieces the way a device does: sparse pieces decoded in order onto one image. */
async function applyPieces(pieces: Uint8Array[], size: number): Promise<Uint8Array> {
  const out = new Uint8Array(Math.ceil(size / 4096) * 4096);
  for (const p of pieces) {
    assert.ok(isSparseHeader(p.subarray(0, 4)), 'every piece is a sparse image');
    for await (const op of decodeSparse(chunked(p))) {
      if (op.kind === 'data') out.set(op.bytes, op.offset);
      else if (op.kind === 'fill') for (let i = 0; i < op.length; i++) out[op.offset + i] = op.value[i % 4]!;
    }
  }
  return out.subarray(0, size);
}

/**
 * The engine's sender on a bare session (what benchmarks and conformance tests drive): the same planner and
 * piece loop a job uses, against a scripted fastboot peer.
 */
describe('flashPlannedImage', () => {
  it('sends an image that fits as it is, in one download', async () => {
    const { client, session, fake } = await connect(1 << 20);
    const img = makeImage(300_000);
    const plan = await flashPlannedImage(session, 'boot_a', { size: img.length, sparse: false }, () =>
      chunked(img),
    );
    assert.equal(plan.pieces.length, 1);
    assert.equal(plan.sparse, undefined, 'sent as it is, not re-encoded');
    assert.ok(Buffer.from(img).equals(fake.downloads[0]?.bytes ?? new Uint8Array()));
    assert.deepEqual(fake.commands, ['getvar:max-download-size', 'download:000493e0', 'flash:boot_a']);
    await client.close();
  });

  it('sends a raw image larger than max-download-size as sparse pieces that rebuild it exactly', async () => {
    const { client, session, fake } = await connect(256 * 1024);
    const img = makeImage(1_000_003);
    const progress: number[] = [];
    let counted = 0;
    const plan = await flashPlannedImage(
      session,
      'system',
      { size: img.length, sparse: false },
      () => chunked(img),
      {
        onBytes: (n, position) => {
          counted += n;
          progress.push(position);
        },
      },
    );
    assert.ok(plan.pieces.length > 1);
    assert.deepEqual(
      fake.downloads.map((d) => d.size),
      plan.pieces.map((p) => p.size),
      'the pieces sent are the planned ones, in order',
    );
    assert.equal(fake.flashed.length, plan.pieces.length);
    assert.ok(fake.downloads.every((d) => d.size <= 256 * 1024));
    const rebuilt = await applyPieces(
      fake.downloads.map((d) => d.bytes!),
      img.length,
    );
    assert.deepEqual(rebuilt, img);
    const sent = fake.downloads.reduce((n, d) => n + d.size, 0);
    assert.equal(counted, sent);
    assert.equal(progress.at(-1), sent);
    assert.ok(
      progress.every((v, i) => i === 0 || v >= progress[i - 1]!),
      'progress never goes backwards',
    );
    await client.close();
  });

  it('re-splits a sparse image (from img2simg) larger than max-download-size; a fitting one goes unchanged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'flashline-send-'));
    try {
      const img = makeImage(2_000_000);
      writeFileSync(join(dir, 'raw.img'), img);
      execFileSync('img2simg', [join(dir, 'raw.img'), join(dir, 'sparse.img')]);
      const sparseBytes = readFileSync(join(dir, 'sparse.img'));
      const open = () => createReadStream(join(dir, 'sparse.img'));

      const sparse = { size: sparseBytes.length, sparse: true };
      const small = await connect(300 * 1024);
      const r = await flashPlannedImage(small.session, 'system', sparse, open);
      assert.ok(r.pieces.length > 1 && r.sparse);
      assert.deepEqual(
        await applyPieces(
          small.fake.downloads.map((d) => d.bytes!),
          img.length,
        ),
        img,
      );
      await small.client.close();

      const big = await connect(64 << 20);
      const one = await flashPlannedImage(big.session, 'system', sparse, open);
      assert.equal(one.pieces.length, 1);
      assert.ok(sparseBytes.equals(big.fake.downloads[0]?.bytes ?? new Uint8Array()), 'sent as it is');
      await big.client.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
