/** The package's super layout (`super_empty.img`), read bounded and parsed before anything is written. */
import {
  parseSuperEmpty,
  SuperFormatError,
  SuperLayoutError,
  type SuperMetadata,
} from '../protocol/fastboot/super/index.js';
import { JOB_CODES, jobFailure } from './codes.js';
import { cancelled, type JobContext } from './context.js';
import { superLayoutImage } from './dynamic-images.js';
import type { FlashImage } from './ports.js';

/** A super layout (`super_empty.img`) is metadata only: geometry and one table, far below this. */
export const MAX_SUPER_LAYOUT_BYTES = 4 * 1024 * 1024;
/** Read the package's super layout (bounded, hash-checked while it streams) and parse it (21 when invalid). */
export async function readLayout(ctx: JobContext): Promise<{ image: FlashImage; layout: SuperMetadata }> {
  const image = superLayoutImage(ctx.pkg);
  if (!image) {
    throw jobFailure(
      JOB_CODES.malformedPackage,
      'The package holds logical partitions but no super layout (super_empty.img); rebuild the package.',
    );
  }
  if (image.size > MAX_SUPER_LAYOUT_BYTES) {
    throw jobFailure(
      JOB_CODES.malformedPackage,
      `The package's super layout ${image.partition} is ${image.size} bytes; a super_empty image is at most ${MAX_SUPER_LAYOUT_BYTES}. Rebuild the package.`,
    );
  }
  const bytes = await readSmallImage(ctx, image);
  try {
    return { image, layout: parseSuperEmpty(bytes) };
  } catch (err) {
    if (err instanceof SuperFormatError || err instanceof SuperLayoutError) {
      throw jobFailure(
        JOB_CODES.malformedPackage,
        `The package's super layout ${image.partition} is not a valid super_empty image: ${err.message}. Rebuild the package.`,
      );
    }
    throw err;
  }
}

async function readSmallImage(ctx: JobContext, image: FlashImage): Promise<Uint8Array> {
  const out = new Uint8Array(image.size);
  let at = 0;
  try {
    for await (const chunk of ctx.pkg.openImage(image.partition, ctx.signal)) {
      if (at + chunk.byteLength > out.byteLength) {
        throw jobFailure(
          JOB_CODES.imageMismatch,
          `Image ${image.partition} is longer than the ${image.size} bytes its manifest says.`,
        );
      }
      out.set(chunk, at);
      at += chunk.byteLength;
    }
  } catch (err) {
    if (ctx.signal.aborted) throw cancelled();
    throw err;
  }
  return out;
}
