/**
 * Streams images from the verified package to the device, piece by piece (download + flash), journaling
 * each piece once written. The pieces are the plan preflight made with the shared sparse codec (see
 * pieces.ts). Pieces already journaled are skipped on the wire — their bytes still flow through the
 * package's hash check, so a resumed image is still verified end to end. The last piece of an image is only
 * flashed after the package stream has ended cleanly (size and hash confirmed).
 */
import { SparseFormatError } from '../protocol/fastboot/sparse/index.js';
import { JOB_CODES, jobFailure } from './codes.js';
import { downloadTimeout, type JobContext, op, session, slotted } from './context.js';
import type { ImagePlan } from './pieces.js';
import type { FlashImage } from './ports.js';
import { type SendStep, sendPieces } from './send-pieces.js';

export function targetPartition(ctx: JobContext, img: FlashImage): string {
  const plan = ctx.plan;
  if (!plan) throw new Error('no plan before writing');
  return img.slotted ? slotted(img.partition, plan.targetSlot) : img.partition;
}

/** The piece plan preflight made for this image. */
export function planOf(ctx: JobContext, img: FlashImage): ImagePlan {
  const part = targetPartition(ctx, img);
  const plan = ctx.imagePlans.get(part);
  if (!plan) throw new Error(`no piece plan for ${part} before writing`);
  return plan;
}

/** Wire bytes of the given images, and how many of them were already written. */
export function wireTotals(ctx: JobContext, images: readonly FlashImage[]): { total: number; done: number } {
  let total = 0;
  let done = 0;
  for (const img of images) {
    const set = ctx.donePieces.get(targetPartition(ctx, img));
    for (const p of planOf(ctx, img).pieces) {
      total += p.size;
      if (set?.has(p.index)) done += p.size;
    }
  }
  return { total, done };
}

/**
 * Progress is reported as the absolute wire position (pieces before this one + bytes sent of it), so a
 * piece re-sent after a reconnect never moves the bar backwards: the meter ignores lower positions.
 */
export async function writeImages(ctx: JobContext, images: readonly FlashImage[]): Promise<void> {
  let position = 0;
  for (const img of images) {
    const part = targetPartition(ctx, img);
    const plan = planOf(ctx, img);
    const done = ctx.donePieces.get(part) ?? new Set<number>();
    ctx.donePieces.set(part, done);
    const base = position;
    position += plan.pieces.reduce((a, p) => a + p.size, 0);
    if (plan.pieces.every((p) => done.has(p.index))) continue;
    try {
      await sendPieces(session(ctx), part, plan, ctx.pkg.openImage(img.partition, ctx.signal), {
        signal: ctx.signal,
        skip: (index) => done.has(index),
        guard: (step, call) => op(ctx, step.label, stepTimeout(ctx, step), call),
        onBytes: (n, at) => {
          ctx.meter.set(base + at);
          ctx.report.stageBytes(n);
        },
        onWritten: async (index) => {
          done.add(index);
          await ctx.journal.append({ type: 'piece', partition: part, index });
        },
      });
    } catch (err) {
      if (err instanceof SparseFormatError) {
        throw jobFailure(
          JOB_CODES.imageMismatch,
          `Image ${img.partition} is not what preflight planned (${err.message}). Check the package file and start again.`,
        );
      }
      throw err;
    }
  }
}

/** A download is bounded by the slowest link speed we accept; a flash also by the piece it writes. */
function stepTimeout(ctx: JobContext, step: SendStep): number {
  const download = downloadTimeout(ctx, step.bytes);
  return step.kind === 'download' ? download : ctx.options.timeouts.commandMs + download;
}
