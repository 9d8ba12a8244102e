/**
 * Errors that cross a boundary (API, CLI, reports) as data: {code, message, detail}.
 * `code` is a status code from status-codes.ts when the failure belongs to a job stage, otherwise a
 * stable string naming the kind of rejection (e.g. 'bad_input', 'not_found').
 */
export interface ErrorData {
  readonly code: number | string;
  readonly message: string;
  readonly detail?: unknown;
}

export class FlashlineError extends Error {
  readonly code: number | string;
  readonly detail: unknown;
  constructor(code: number | string, message: string, detail?: unknown, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlashlineError';
    this.code = code;
    this.detail = detail;
  }
  toData(): ErrorData {
    return this.detail === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, detail: this.detail };
  }
}

/** Prefix context as an error propagates (RAUC/Mender style), keeping code and detail. */
export function withContext(context: string, err: unknown): FlashlineError {
  if (err instanceof FlashlineError) {
    return new FlashlineError(err.code, `${context}: ${err.message}`, err.detail, { cause: err });
  }
  const msg = err instanceof Error ? err.message : String(err);
  return new FlashlineError('internal', `${context}: ${msg}`, undefined, { cause: err });
}

export function toErrorData(err: unknown): ErrorData {
  if (err instanceof FlashlineError) return err.toData();
  if (err instanceof Error) return { code: 'internal', message: err.message };
  return { code: 'internal', message: String(err) };
}
