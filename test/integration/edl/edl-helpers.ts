/** Shared pieces of the EDL integration tests: a programmer file and a streaming source. */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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
