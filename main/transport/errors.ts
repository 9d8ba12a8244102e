/**
 * Typed transport failures. They extend FlashlineError so they cross the API as {code, message, detail};
 * callers tell them apart with `instanceof` or by `code`.
 */
import { FlashlineError } from '../common/errors.js';

export const TRANSPORT_ERROR_CODES = {
  disconnected: 'disconnected',
  timeout: 'timeout',
  aborted: 'aborted',
  openFailed: 'open_failed',
  unavailable: 'transport_unavailable',
} as const;

/** The link went away (cable pulled, socket reset, port closed) while or before we used it. */
export class DisconnectedError extends FlashlineError {
  constructor(message = 'the device disconnected', options?: { cause?: unknown }) {
    super(TRANSPORT_ERROR_CODES.disconnected, message, undefined, options);
    this.name = 'DisconnectedError';
  }
}

/** A read or write did not complete within its deadline. The link may still be usable. */
export class TimeoutError extends FlashlineError {
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super(TRANSPORT_ERROR_CODES.timeout, `${what} timed out after ${timeoutMs} ms`, { timeoutMs });
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends FlashlineError {
  constructor(what: string, options?: { cause?: unknown }) {
    super(TRANSPORT_ERROR_CODES.aborted, `${what} was cancelled`, undefined, options);
    this.name = 'AbortedError';
  }
}

/** The transport could not be opened (refused, no such port, interface busy, backend missing). */
export class OpenError extends FlashlineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(TRANSPORT_ERROR_CODES.openFailed, message, undefined, options);
    this.name = 'OpenError';
  }
}

/** A native backend (usb, serialport) is not available on this machine. */
export class TransportUnavailableError extends FlashlineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(TRANSPORT_ERROR_CODES.unavailable, message, undefined, options);
    this.name = 'TransportUnavailableError';
  }
}
