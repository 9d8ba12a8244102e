/**
 * One ranged GET of a repository target: `Range: bytes=FROM-` and a strict check of the answer against the
 * signed length (the server must resume exactly where asked, or send the whole file of exactly the signed
 * length when asked from 0). Content refusals are 28, a client error 10; a server error or a dropped
 * connection is transient (the caller resumes). Shared by the station's download into a partial file
 * (download.ts) and the device's OTA agent, which streams into its inactive slot.
 */
import { FlashlineError } from '../common/errors.js';
import { REPO_CODE } from './refusals.js';

/** The network, not the content: worth another try from the same offset. */
export class TransientHttpError extends Error {
  override name = 'TransientHttpError';
}

function refuse(url: string, length: number, what: string): FlashlineError {
  return new FlashlineError(
    REPO_CODE.mismatch,
    `${url}: ${what}; the repository signed ${length} bytes. Tell the repository operator or use another mirror.`,
    { url, length },
  );
}

export async function openRange(
  url: string,
  from: number,
  length: number,
  signal?: AbortSignal,
  to?: number,
): Promise<ReadableStreamDefaultReader<Uint8Array>> {
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (from > 0 || to !== undefined) headers.range = `bytes=${from}-${to === undefined ? '' : to - 1}`;
  let res: Response;
  try {
    res = await fetch(url, { headers, ...(signal ? { signal } : {}) });
  } catch (err) {
    if (signal?.aborted) throw err;
    throw new TransientHttpError(
      err instanceof Error ? ((err.cause as Error)?.message ?? err.message) : String(err),
    );
  }
  if (res.status === 206) {
    const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
    if (!m) throw refuse(url, length, 'the server answered a range request without a valid Content-Range');
    if (m[3] !== '*' && Number(m[3]) !== length)
      throw refuse(url, length, `the server's file has ${m[3]} bytes`);
    if (Number(m[1]) !== from) throw refuse(url, length, `the server resumed at byte ${m[1]}, not ${from}`);
  } else if (res.status === 200) {
    if (from > 0) throw refuse(url, length, `the server ignored the range request from byte ${from}`);
    const declared = res.headers.get('content-length');
    if (declared !== null && Number(declared) !== length)
      throw refuse(url, length, `the server sends ${declared} bytes`);
  } else if (res.status === 416) {
    throw refuse(url, length, `the server's file is shorter than ${from} bytes`);
  } else {
    await res.body?.cancel();
    if (res.status >= 500) throw new TransientHttpError(`HTTP ${res.status}`);
    throw new FlashlineError(
      REPO_CODE.unreachable,
      `${url}: the server answered HTTP ${res.status}. Check the repository address; try again later.`,
      { url, status: res.status },
    );
  }
  if (!res.body) throw new TransientHttpError('the server sent no body');
  const reader = res.body.getReader();
  // A body that fails mid-way (connection reset) is a drop, not a refusal.
  return {
    read: async () => {
      try {
        return await reader.read();
      } catch (err) {
        if (signal?.aborted) throw err;
        throw new TransientHttpError(err instanceof Error ? err.message : String(err));
      }
    },
    cancel: (reason?: unknown) => reader.cancel(reason),
    releaseLock: () => reader.releaseLock(),
    closed: reader.closed,
  };
}
