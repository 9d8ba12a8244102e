/**
 * Streams images from the verified package to the device, piece by piece (download + flash), journaling
 * each piece once written. Pieces already journaled are skipped on the wire — their bytes still flow through
 * the package's hash check, so a resumed image is still verified end to end. The last piece of an image is
 * only flashed after the package stream has ended cleanly (size and hash confirmed).
 */
import { downloadTimeout, type JobContext, op, session, slotted } from './context.js';
import { ByteCursor, type Piece, pieceBytes, planPieces } from './pieces.js';
import type { FlashImage } from './ports.js';

export function targetPartition(ctx: JobContext, img: FlashImage): string {
  const plan = ctx.plan;
  if (!plan) throw new Error('no plan before writing');
  return img.slotted ? slotted(img.partition, plan.targetSlot) : img.partition;
}

export function piecesOf(ctx: JobContext, img: FlashImage): Piece[] {
  const plan = ctx.plan;
  if (!plan) throw new Error('no plan before writing');
  if (img.sparse) return [{ index: 0, offset: 0, length: img.size, wireSize: img.size, sparse: false }];
  return planPieces(img.size, plan.pieceSize, plan.maxDownload);
}

/** Wire bytes of the given images, and how many of them were already written. */
export function wireTotals(ctx: JobContext, images: readonly FlashImage[]): { total: number; done: number } {
  let total = 0;
  let done = 0;
  for (const img of images) {
    const set = ctx.donePieces.get(targetPartition(ctx, img));
    for (const p of piecesOf(ctx, img)) {
      total += p.wireSize;
      if (set?.has(p.index)) done += p.wireSize;
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
    const pieces = piecesOf(ctx, img);
    const done = ctx.donePieces.get(part) ?? new Set<number>();
    ctx.donePieces.set(part, done);
    if (pieces.every((p) => done.has(p.index))) {
      position += pieces.reduce((a, p) => a + p.wireSize, 0);
      continue;
    }
    const cursor = new ByteCursor(ctx.pkg.openImage(img.partition, ctx.signal));
    try {
      for (const piece of pieces) {
        const base = position;
        position += piece.wireSize;
        if (done.has(piece.index)) {
          await cursor.skip(piece.length);
          continue;
        }
        let sent = 0;
        const s = session(ctx);
        const last = piece.index === pieces.length - 1;
        await op(
          ctx,
          `download ${part} piece ${piece.index + 1}/${pieces.length}`,
          downloadTimeout(ctx, piece.wireSize),
          (signal) =>
            s.download(piece.wireSize, pieceBytes(cursor, piece, img.size), {
              signal,
              onBytes: (n) => {
                sent += n;
                ctx.meter.set(base + sent);
                ctx.report.stageBytes(n);
              },
            }),
        );
        if (last) await cursor.finish();
        await op(
          ctx,
          `flash ${part}`,
          ctx.options.timeouts.commandMs + downloadTimeout(ctx, piece.wireSize),
          (signal) => s.flash(part, { signal }),
        );
        done.add(piece.index);
        await ctx.journal.append({ type: 'piece', partition: part, index: piece.index });
      }
    } finally {
      await cursor.close();
    }
  }
}
