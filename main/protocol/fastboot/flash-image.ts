/**
 * Flash one image, as the AOSP client does: an image that fits max-download-size goes as it is (raw or
 * sparse); a raw image that does not fit goes as sparse pieces (each a valid sparse image covering one block
 * range); a sparse image that does not fit is re-split into valid sparse pieces. Streams only.
 */
import type { ByteProgress } from '../../transport/index.js';
import { type CallOptions, type CommandResult, type FastbootClient, parseSizeVar } from './client.js';
import {
  emitPieces,
  isSparseHeader,
  planSparsePieces,
  rawLayout,
  type SparseLayout,
  scanSparseLayout,
} from './sparse/index.js';

/** An image: an iterable read once, or a function that opens it afresh (needed to re-split a sparse image). */
export type ImageSource = AsyncIterable<Uint8Array> | (() => AsyncIterable<Uint8Array>);

export interface FlashImageOptions extends CallOptions {
  /** Device limit; queried with `getvar:max-download-size` when absent. */
  readonly maxDownloadSize?: number;
  /** Bytes sent so far / bytes to send in total (over all pieces). */
  readonly onProgress?: ByteProgress;
  /** Called before each piece is sent (1-based index). */
  readonly onPiece?: (index: number, count: number) => void;
}

export interface FlashImageResult {
  readonly pieces: number;
  readonly sparse: boolean;
  readonly bytesSent: number;
  readonly results: readonly CommandResult[];
}

const open = (s: ImageSource) => (typeof s === 'function' ? s() : s);

/** Look at the first 4 bytes without losing them: returns them and an iterable of the whole stream. */
async function peek(
  source: AsyncIterable<Uint8Array>,
): Promise<{ head: Uint8Array; all: AsyncIterable<Uint8Array> }> {
  const it = source[Symbol.asyncIterator]();
  const first: Uint8Array[] = [];
  let have = 0;
  let ended = false;
  while (have < 4) {
    const r = await it.next();
    if (r.done) {
      ended = true;
      break;
    }
    first.push(r.value);
    have += r.value.byteLength;
  }
  const head = new Uint8Array(Math.min(4, have));
  let o = 0;
  for (const c of first) {
    if (o >= head.byteLength) break;
    const take = Math.min(c.byteLength, head.byteLength - o);
    head.set(c.subarray(0, take), o);
    o += take;
  }
  const all = (async function* () {
    yield* first;
    if (ended) return;
    for (;;) {
      const r = await it.next();
      if (r.done) return;
      yield r.value;
    }
  })();
  return { head, all };
}

export async function flashImage(
  client: FastbootClient,
  partition: string,
  source: ImageSource,
  size: number,
  opts: FlashImageOptions = {},
): Promise<FlashImageResult> {
  const call = {
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs ? { timeoutMs: opts.timeoutMs } : {}),
  };
  let max = opts.maxDownloadSize;
  if (max === undefined) {
    const text = await client.getvar('max-download-size', call);
    max = parseSizeVar(text);
    if (max === undefined) throw new RangeError(`the device's max-download-size '${text}' is not a size`);
  }
  const { head, all } = await peek(open(source));
  const sparse = head.byteLength === 4 && isSparseHeader(head);

  if (size <= max) {
    opts.onPiece?.(1, 1);
    await client.download(size, all, {
      ...call,
      ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
    });
    return { pieces: 1, sparse, bytesSent: size, results: [await client.flash(partition, call)] };
  }

  let layout: SparseLayout;
  let data: AsyncIterable<Uint8Array> = all;
  if (sparse) {
    if (typeof source !== 'function') {
      throw new RangeError(
        `the sparse image for '${partition}' is larger than max-download-size (${max}); re-splitting needs a source that can be opened twice`,
      );
    }
    layout = await scanSparseLayout(all, call);
    data = source();
  } else {
    layout = rawLayout(size);
  }
  const plan = planSparsePieces(layout, max);
  const total = plan.pieces.reduce((n, p) => n + p.size, 0);
  let before = 0;
  const results: CommandResult[] = [];
  for await (const piece of emitPieces(plan, data, call)) {
    opts.onPiece?.(piece.index + 1, piece.count);
    const base = before;
    await client.download(piece.size, piece.stream, {
      ...call,
      onProgress: (done) => opts.onProgress?.(base + done, total),
    });
    before += piece.size;
    results.push(await client.flash(partition, call));
  }
  return { pieces: plan.pieces.length, sparse: true, bytesSent: total, results };
}
