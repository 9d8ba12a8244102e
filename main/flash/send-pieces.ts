/**
 * The one path an image takes to a device: its planned pieces (pieces.ts), each downloaded, then the
 * source's end checks, then flashed. writeImages wraps it with the job's journal, timeouts and progress;
 * benchmarks and conformance tests call `flashPlannedImage` on a bare session, so what they measure and
 * judge is exactly what a job sends.
 */
import { parseSizeVar } from '../protocol/fastboot/vars.js';
import { type ImagePlan, imagePieces, pieceLimit, planImage } from './pieces.js';
import { DeviceLinkError, type DeviceSession, type OpOptions } from './ports.js';

/** One device call of the send loop, for a caller that bounds or labels it (the engine's `op`). */
export interface SendStep {
  readonly kind: 'download' | 'flash';
  /** e.g. `download boot_b piece 2/5`, `flash boot_b`. */
  readonly label: string;
  /** Wire bytes of the piece this step handles (a flash takes longer for a bigger piece). */
  readonly bytes: number;
}

export interface SendPiecesOptions {
  readonly signal: AbortSignal;
  /** Pieces the device already holds: their bytes still flow through the source's checks, not the wire. */
  readonly skip?: (index: number) => boolean;
  /** Runs each device call with its limit; the default runs it under `signal` alone (no limit of its own). */
  readonly guard?: <T>(step: SendStep, call: (options: OpOptions) => Promise<T>) => Promise<T>;
  /**
   * Called after each chunk sent: `n` new bytes, `position` the image's wire position (every earlier
   * piece, sent or skipped, plus what was sent of this one).
   */
  readonly onBytes?: (n: number, position: number) => void;
  /** The device has written piece `index` (flash answered OKAY). */
  readonly onWritten?: (index: number) => Promise<void> | void;
}

/** Send the pieces of `plan` from ONE pass over `source` (the image's bytes from its start). */
export async function sendPieces(
  session: DeviceSession,
  partition: string,
  plan: ImagePlan,
  source: AsyncIterable<Uint8Array>,
  opts: SendPiecesOptions,
): Promise<void> {
  const guard = opts.guard ?? ((_step, call) => call({ signal: opts.signal }));
  const count = plan.pieces.length;
  let position = 0;
  for await (const piece of imagePieces(plan, source, opts.signal)) {
    const base = position;
    position += piece.size;
    if (opts.skip?.(piece.index)) {
      for await (const _ of piece.stream) {
        // discard: the bytes still flow through the source's own checks (the package hash)
      }
      await piece.finish();
      continue;
    }
    let sent = 0;
    const label = `download ${partition} piece ${piece.index + 1}/${count}`;
    await guard({ kind: 'download', label, bytes: piece.size }, (o) =>
      session.download(piece.size, piece.stream, {
        ...o,
        onBytes: (n) => {
          sent += n;
          opts.onBytes?.(n, base + sent);
        },
      }),
    );
    // Runs the source's end checks (the package hash, on the last piece) before anything is flashed.
    await piece.finish();
    await guard({ kind: 'flash', label: `flash ${partition}`, bytes: piece.size }, (o) =>
      session.flash(partition, o),
    );
    await opts.onWritten?.(piece.index);
  }
}

export interface FlashPlannedImageOptions {
  readonly signal?: AbortSignal;
  /** The device's buffer; asked with `getvar:max-download-size` when absent. */
  readonly maxDownload?: number;
  /** Preferred piece size (the engine's resume granularity); default: the whole buffer. */
  readonly pieceSize?: number;
  readonly onBytes?: SendPiecesOptions['onBytes'];
}

/**
 * Plan and send one image to an open session without a job around it (no journal, no package): what
 * `fastboot flash PARTITION FILE` does, through the engine's planner and sender. `open` returns the
 * image's bytes from the start; it is called twice for a sparse image that must be re-split.
 */
export async function flashPlannedImage(
  session: DeviceSession,
  partition: string,
  image: { readonly size: number; readonly sparse: boolean },
  open: () => AsyncIterable<Uint8Array>,
  opts: FlashPlannedImageOptions = {},
): Promise<ImagePlan> {
  const signal = opts.signal ?? new AbortController().signal;
  let max = opts.maxDownload;
  if (max === undefined) {
    const text = (await session.getvar('max-download-size', { signal })) ?? '';
    max = parseSizeVar(text);
    if (!max) throw new DeviceLinkError('protocol', `max-download-size '${text.slice(0, 40)}' is not a size`);
  }
  const flashImage = { partition, size: image.size, sha256: '', slotted: false, sparse: image.sparse };
  const plan = await planImage(flashImage, pieceLimit(max, opts.pieceSize ?? max), open, signal);
  await sendPieces(session, partition, plan, open(), {
    signal,
    ...(opts.onBytes ? { onBytes: opts.onBytes } : {}),
  });
  return plan;
}
