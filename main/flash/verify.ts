/**
 * verify: ask the device to hash what it wrote (the device-side hash its capability record names, answered
 * as INFO hex) and compare with the signed manifest. A device without one is reported as "device-side
 * verification not available" — never a silent pass.
 */
import { createHash } from 'node:crypto';
import { decodeSparse } from '../protocol/fastboot/sparse/index.js';
import { JOB_CODES, jobFailure } from './codes.js';
import type { JobContext } from './context.js';
import { capabilities, runVendorCommand } from './facts.js';
import { DeviceLinkError, type FlashImage } from './ports.js';
import { planOf, targetPartition } from './write-images.js';

export const NOT_AVAILABLE = 'device-side verification not available';

/** Thrown when the device's hash differs; the runner may rewrite the image once before failing. */
export class DeviceHashMismatch extends Error {
  readonly partition: string;
  constructor(partition: string, expected: string, actual: string) {
    super(
      `partition ${partition} hashes to ${actual.slice(0, 16)}… on the device, expected ${expected.slice(0, 16)}…`,
    );
    this.name = 'DeviceHashMismatch';
    this.partition = partition;
  }
}

/**
 * What the device should hash for this image: the image itself when sent raw; image + zero padding when a
 * raw image went as sparse pieces (the sparse format counts whole blocks); the expanded image when the
 * image is sparse — undefined when its DONT_CARE regions leave old bytes on the partition, which no host
 * can predict. Computed from the verified package stream, only when needed.
 */
async function expectedHashes(ctx: JobContext, img: FlashImage): Promise<string[] | undefined> {
  if (img.sparse) {
    const h = await expandedHash(ctx.pkg.openImage(img.partition, ctx.signal), ctx.signal);
    return h === undefined ? undefined : [h];
  }
  const plan = planOf(ctx, img);
  if (!plan.padded) return [img.sha256];
  const hash = createHash('sha256');
  for await (const chunk of ctx.pkg.openImage(img.partition, ctx.signal)) hash.update(chunk);
  hash.update(new Uint8Array(plan.deviceSize - img.size));
  return [img.sha256, hash.digest('hex')];
}

const FILL_SPAN = 64 * 1024;

/** SHA-256 of a sparse image as the partition holds it after flashing, via the shared decoder. */
async function expandedHash(
  source: AsyncIterable<Uint8Array>,
  signal: AbortSignal,
): Promise<string | undefined> {
  const hash = createHash('sha256');
  for await (const op of decodeSparse(source, { signal })) {
    if (op.kind === 'skip') return undefined;
    if (op.kind === 'data') hash.update(op.bytes);
    else {
      const span = Buffer.alloc(Math.min(FILL_SPAN, op.length), op.value);
      for (let left = op.length; left > 0; left -= span.byteLength) {
        hash.update(left >= span.byteLength ? span : span.subarray(0, left));
      }
    }
  }
  return hash.digest('hex');
}

export async function verifyImages(ctx: JobContext, images: readonly FlashImage[]): Promise<void> {
  const deviceHash = capabilities(ctx).deviceHash;
  if (!deviceHash) {
    // Said once in the report's unchecked list (from the capability record); nothing to ask the device.
    if (images.length > 0) ctx.report.verification('not-available');
    return;
  }
  for (const img of images) {
    const part = targetPartition(ctx, img);
    const expected = await expectedHashes(ctx, img);
    if (!expected) {
      ctx.report.verification('not-available');
      ctx.report.message(
        `${NOT_AVAILABLE} (${part}: the sparse image leaves DONT_CARE regions, whose device content is unknown)`,
      );
      continue;
    }
    let lines: string[];
    try {
      // Hashing a large partition takes the device time; bound it like a download of the same size.
      lines = await runVendorCommand(
        ctx,
        deviceHash,
        { partition: part },
        ctx.options.timeouts.commandMs + planOf(ctx, img).deviceSize / 50_000,
      );
    } catch (err) {
      if (err instanceof DeviceLinkError && err.kind === 'device-fail') {
        ctx.report.verification('not-available');
        ctx.report.message(`${NOT_AVAILABLE} (${part}: ${err.deviceMessage ?? err.message})`);
        continue;
      }
      throw err;
    }
    const hex = lines.map((l) => /\b([0-9a-fA-F]{64})\b/.exec(l)?.[1]).find((h) => h !== undefined);
    if (!hex) {
      throw jobFailure(
        JOB_CODES.protocolError,
        `The device answered its hash command for ${part} without a SHA-256: ${lines.join(' ').slice(0, 80)}`,
      );
    }
    const actual = hex.toLowerCase();
    if (!expected.includes(actual)) {
      throw new DeviceHashMismatch(part, expected.at(-1) ?? img.sha256, actual);
    }
    ctx.report.verification('ok');
  }
}
