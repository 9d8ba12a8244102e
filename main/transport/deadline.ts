/**
 * One helper for "this operation must finish within T ms unless the caller aborts or the link drops".
 * Every transport read/write goes through it so no wait is ever unbounded.
 */
import { AbortedError, TimeoutError } from './errors.js';

export const DEFAULT_IO_TIMEOUT_MS = 30_000;

/** Options accepted by every read and write. */
export interface IoOptions {
  /** Milliseconds before the operation fails with TimeoutError. Default 30 000. */
  readonly timeoutMs?: number;
  /** Cancels the operation with AbortedError. */
  readonly signal?: AbortSignal;
}

/**
 * Race `work` against a timeout, the caller's signal and the link's disconnect. `cancel` is called when
 * the race is lost so the underlying operation can release what it holds. `gone` is the link's own signal,
 * aborted with a DisconnectedError as reason; listeners are removed after each call (a promise `.then` would
 * pile up one reaction per call over a multi-GiB transfer).
 */
export function withDeadline<T>(
  what: string,
  work: Promise<T>,
  opts: IoOptions & { gone?: AbortSignal },
  cancel?: (reason: Error) => void,
): Promise<T> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_IO_TIMEOUT_MS;
  const signal = opts.signal;
  const gone = opts.gone;
  if (signal?.aborted) {
    const err = new AbortedError(what, { cause: signal.reason });
    cancel?.(err);
    work.catch(() => {});
    return Promise.reject(err);
  }
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      gone?.removeEventListener('abort', onGone);
      fn();
    };
    const fail = (err: Error) =>
      finish(() => {
        cancel?.(err);
        reject(err);
      });
    const timer = setTimeout(() => fail(new TimeoutError(what, timeoutMs)), timeoutMs);
    const onAbort = () => fail(new AbortedError(what, { cause: signal?.reason }));
    const onGone = () => fail(gone?.reason instanceof Error ? gone.reason : new Error(String(gone?.reason)));
    signal?.addEventListener('abort', onAbort, { once: true });
    gone?.addEventListener('abort', onGone, { once: true });
    if (gone?.aborted) onGone();
    work.then(
      (v) => finish(() => resolve(v)),
      (e: unknown) => finish(() => reject(e)),
    );
  });
}
