/**
 * verify: ask the device to hash what it wrote (vendor `oem sha256 PARTITION`, answered as INFO hex) and
 * compare with the signed manifest. A device without the command is reported as "device-side verification
 * not available" — never a silent pass.
 */
import { createHash } from 'node:crypto';
import { JOB_CODES, jobFailure } from './codes.js';
import { type JobContext, op, session } from './context.js';
import { SPARSE_BLOCK } from './pieces.js';
import { DeviceLinkError, type FlashImage } from './ports.js';
import { piecesOf, targetPartition } from './write-images.js';

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
 * An image sent as sparse pieces lands padded with zeros to a whole block (the sparse format counts
 * blocks), so the device hashes image + padding. Computed from the verified package stream, only when needed.
 */
async function paddedHash(ctx: JobContext, img: FlashImage): Promise<string | undefined> {
  const pieces = piecesOf(ctx, img);
  const pad = (SPARSE_BLOCK - (img.size % SPARSE_BLOCK)) % SPARSE_BLOCK;
  if (pad === 0 || !pieces.some((p) => p.sparse)) return undefined;
  const hash = createHash('sha256');
  for await (const chunk of ctx.pkg.openImage(img.partition, ctx.signal)) hash.update(chunk);
  hash.update(new Uint8Array(pad));
  return hash.digest('hex');
}

export async function verifyImages(ctx: JobContext, images: readonly FlashImage[]): Promise<void> {
  for (const img of images) {
    const part = targetPartition(ctx, img);
    const s = session(ctx);
    let lines: string[];
    try {
      // Hashing a large partition takes the device time; bound it like a download of the same size.
      lines = await op(
        ctx,
        `oem sha256 ${part}`,
        ctx.options.timeouts.commandMs + img.size / 50_000,
        (signal) => s.oem(['sha256', part], { signal }),
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
        `The device answered 'oem sha256 ${part}' without a SHA-256: ${lines.join(' ').slice(0, 80)}`,
      );
    }
    const actual = hex.toLowerCase();
    if (actual !== img.sha256 && actual !== (await paddedHash(ctx, img))) {
      throw new DeviceHashMismatch(part, img.sha256, actual);
    }
    ctx.report.verification('ok');
  }
}
