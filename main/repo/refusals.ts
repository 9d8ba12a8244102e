/**
 * What a refused repository becomes: TUF client errors mapped onto the existing status codes (the repository
 * adds no codes of its own). docs/repository.md has the same table.
 *   expired metadata (freeze attack)                  → 25 package_expired
 *   older version than already trusted (rollback)     → 26 rollback_refused
 *   signature missing or by a key root does not trust → 23 untrusted_signer
 *   wrong length or hash (tamper, endless, truncated) → 28 image_mismatch
 *   metadata that is not valid TUF                    → 21 malformed_package
 *   repository unreachable, timeout, HTTP error       → 10 download_failed
 */
import { LengthOrHashMismatchError, UnsignedMetadataError } from '@tufjs/models/dist/error.js';
import {
  BadVersionError,
  DownloadError,
  DownloadLengthMismatchError,
  ExpiredMetadataError,
  RuntimeError,
} from 'tuf-js/dist/error.js';
import { FlashlineError } from '../common/errors.js';

export const REPO_CODE = {
  unreachable: 10,
  stationStorage: 19,
  malformed: 21,
  untrusted: 23,
  expired: 25,
  rollback: 26,
  mismatch: 28,
} as const;

const ACTION =
  'Nothing was written to the package cache; tell the repository operator, or use another mirror.';

/**
 * tuf-js rethrows a failure while loading snapshot or targets as a RuntimeError that keeps only the
 * original message, so those are recognised by the messages tuf-js's own checks write.
 */
const WRAPPED: readonly [RegExp, number][] = [
  [/is expired/, REPO_CODE.expired],
  [/version .*(less than|does not match|doesn't match)|Expected version/i, REPO_CODE.rollback],
  [/was signed by \d+\/\d+ keys/, REPO_CODE.untrusted],
  [/Expected (length|hash)|Max length reached/, REPO_CODE.mismatch],
];

function classify(err: unknown): number | undefined {
  if (err instanceof ExpiredMetadataError) return REPO_CODE.expired;
  if (err instanceof BadVersionError) return REPO_CODE.rollback;
  if (err instanceof UnsignedMetadataError) return REPO_CODE.untrusted;
  if (err instanceof LengthOrHashMismatchError || err instanceof DownloadLengthMismatchError)
    return REPO_CODE.mismatch;
  if (err instanceof RuntimeError) return WRAPPED.find(([re]) => re.test(err.message))?.[1];
  return undefined;
}

/** The network, not the content: fetch failures, timeouts, HTTP errors, connection resets. */
function isNetworkFailure(err: unknown): boolean {
  if (err instanceof DownloadError) return true;
  if (!(err instanceof Error)) return false;
  if (err.name === 'TimeoutError' || err.name === 'AbortError') return true;
  if (err instanceof TypeError && /fetch/i.test(err.message)) return true;
  return (
    typeof (err as NodeJS.ErrnoException).code === 'string' &&
    /^E[A-Z]+$/.test(String((err as NodeJS.ErrnoException).code))
  );
}

export function repoRefusal(repoUrl: string, err: unknown): FlashlineError {
  if (err instanceof FlashlineError) return err;
  const why = err instanceof Error ? err.message : String(err);
  const refuse = (code: number, what: string) =>
    new FlashlineError(
      code,
      `Repository ${repoUrl}: ${what} (${why}). ${ACTION}`,
      { repoUrl },
      { cause: err },
    );
  const code = classify(err);
  if (code === REPO_CODE.expired)
    return refuse(code, 'its metadata has expired — a stale or frozen copy; check the station clock too');
  if (code === REPO_CODE.rollback)
    return refuse(code, 'it offers older metadata than this station already trusts (a replay)');
  if (code === REPO_CODE.untrusted)
    return refuse(code, 'its metadata is not signed by the keys in the root this station trusts');
  if (code === REPO_CODE.mismatch)
    return refuse(code, 'a file does not have the length or hash its signed metadata gives');
  if (isNetworkFailure(err))
    return new FlashlineError(
      REPO_CODE.unreachable,
      `Repository ${repoUrl} cannot be reached (${why}). Check the address and the network, then retry.`,
      { repoUrl },
      { cause: err },
    );
  return refuse(REPO_CODE.malformed, 'its metadata is not valid');
}
