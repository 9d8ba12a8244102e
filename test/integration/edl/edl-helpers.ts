/** Shared pieces of the EDL integration tests: a programmer file and a streaming source. */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FirehoseClient } from '../../../main/protocol/firehose/index.js';
import { buildSimulatedProgrammer } from '../../../main/protocol/sahara/index.js';

export async function tempDir(): Promise<string> {
  return fs.mkdtemp(join(tmpdir(), 'flashline-edl-test-'));
}

export async function writeProgrammer(
  dir: string,
  oemPkHash: Uint8Array,
  name = 'prog_firehose.elf',
): Promise<string> {
  const path = join(dir, name);
  // Larger than one 4 KiB READ_DATA piece so the transfer takes several requests.
  await fs.writeFile(path, buildSimulatedProgrammer(oemPkHash, 'x'.repeat(10_000)));
  return path;
}

export async function* chunks(data: Uint8Array, size = 100_000): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.byteLength; at += size) yield data.subarray(at, at + size);
}

export function randomImage(bytes: number): Buffer {
  return randomBytes(bytes);
}

/**
 * Program `image` at `startSector`, then check the device-side SHA-256 and a read-back against the image
 * padded to whole sectors (what Firehose writes). Returns the progress values seen.
 */
export async function programAndVerify(
  firehose: FirehoseClient,
  sectorSize: number,
  startSector: number,
  image: Uint8Array,
  label: string,
): Promise<number[]> {
  const numSectors = Math.ceil(image.byteLength / sectorSize);
  const range = { sectorSize, physicalPartition: 0, startSector, numSectors };
  const progress: number[] = [];
  await firehose.program({ ...range, label, filename: `${label}.img` }, image.byteLength, chunks(image), {
    onProgress: (done) => progress.push(done),
  });
  const padded = Buffer.concat([image, Buffer.alloc(numSectors * sectorSize - image.byteLength)]);
  assert.equal(await firehose.sha256(range), createHash('sha256').update(padded).digest('hex'));
  const back: Buffer[] = [];
  await firehose.read(range, (c) => {
    back.push(Buffer.from(c));
  });
  assert.ok(Buffer.concat(back).equals(padded), 'read-back differs');
  return progress;
}
