/**
 * Preflight's half of piece planning: make (or reuse) each image's plan, check it against the device's
 * download buffer, and reconcile it with the journal — a resumed job may skip written pieces only when its
 * plan has the same identity (piece sizes) as the one they were written under.
 */
import { isJobFailure, JOB_CODES, jobFailure } from './codes.js';
import { cancelled, type JobContext } from './context.js';
import { type ImagePlan, PieceLimitTooSmall, planIdentity, planImage, sameIdentity } from './pieces.js';
import type { FlashImage } from './ports.js';

export async function planFor(
  ctx: JobContext,
  img: FlashImage,
  part: string,
  limit: number,
  maxDownload: number,
): Promise<ImagePlan> {
  const cached = ctx.imagePlans.get(part);
  const plan = cached?.limit === limit ? cached : await makePlan(ctx, img, limit, maxDownload);
  const tooBig = plan.pieces.find((p) => p.size > maxDownload);
  if (tooBig) {
    throw jobFailure(
      JOB_CODES.downloadBufferTooSmall,
      `Piece ${tooBig.index + 1} of ${img.partition} is ${tooBig.size} bytes, more than the device's download buffer (${maxDownload}).`,
    );
  }
  const identity = planIdentity(plan);
  const journaled = ctx.journaledPlans.get(part);
  if (!journaled || !sameIdentity(journaled, identity)) {
    if ((ctx.donePieces.get(part)?.size ?? 0) > 0) {
      // Pieces written under another plan cover other block ranges: start this image again.
      ctx.report.message(
        `the piece plan of ${part} changed since the interrupted run; writing it from the start`,
      );
      ctx.donePieces.delete(part);
      await ctx.journal.append({ type: 'reset', partition: part });
    }
    await ctx.journal.append({ type: 'pieces', partition: part, sizes: identity });
    ctx.journaledPlans.set(part, identity);
  }
  ctx.imagePlans.set(part, plan);
  return plan;
}

async function makePlan(
  ctx: JobContext,
  img: FlashImage,
  limit: number,
  maxDownload: number,
): Promise<ImagePlan> {
  try {
    return await planImage(img, limit, () => ctx.pkg.openImage(img.partition, ctx.signal), ctx.signal);
  } catch (err) {
    if (ctx.signal.aborted) throw cancelled();
    if (err instanceof PieceLimitTooSmall) {
      throw jobFailure(
        JOB_CODES.downloadBufferTooSmall,
        `The device's download buffer is ${maxDownload} bytes, too small to send ${img.partition} in sparse pieces (at least ${err.minimum} bytes are needed).`,
        { maxDownload, minimum: err.minimum },
      );
    }
    if (isJobFailure(err)) throw err;
    if (img.sparse && err instanceof Error) {
      throw jobFailure(
        JOB_CODES.malformedPackage,
        `Image ${img.partition} is marked sparse in the package but is not a valid Android sparse image (${err.message}). Rebuild the package.`,
      );
    }
    throw err;
  }
}
