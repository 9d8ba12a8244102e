/**
 * A Firehose read streamed to a file: temp file, fsync, rename (never a partial file under the name), with
 * backpressure (the device waits while the disk catches up, memory stays bounded) and the SHA-256 of what
 * was read. `flashline backup` and the rescue's backup stage both use it.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import { writeFileAtomic } from '../../common/atomic-write.js';
import type { ByteProgress } from '../../transport/types.js';
import type { CallOptions, FirehoseClient, SectorRange } from './client.js';

export async function readToFile(
  client: FirehoseClient,
  range: SectorRange,
  file: string,
  opts: CallOptions & { onProgress?: ByteProgress } = {},
): Promise<{ bytes: number; sha256: string }> {
  const bytes = range.numSectors * range.sectorSize;
  const hash = createHash('sha256');
  const out = new PassThrough({ highWaterMark: 1 << 20 });
  const written = writeFileAtomic(file, out, {
    expectedSize: bytes,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const reading = client
    .read(
      range,
      async (chunk) => {
        if (out.destroyed) throw new Error(`writing ${file} failed`);
        hash.update(chunk);
        if (!out.write(chunk)) await Promise.race([once(out, 'drain'), once(out, 'close')]);
      },
      {
        ...(opts.signal ? { signal: opts.signal } : {}),
        ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
      },
    )
    .then(
      () => out.end(),
      (err: unknown) => {
        out.destroy(err instanceof Error ? err : new Error(String(err)));
        throw err;
      },
    );
  await Promise.all([reading, written]);
  return { bytes, sha256: hash.digest('hex') };
}
