/**
 * What a refused repository becomes: TUF client errors mapped onto the existing status codes (the repository
 * adds no codes of its own). docs/repository.md has the same table.
 *   expired metadata (freeze attack)                  → 25 package_expired
 *   older version than already trusted (rollback)     → 26 rollback_refused
 *   signature missing or by a key root does not trust → 23 untrusted_signer
 *   wrong length or hash (tamper, endless, truncated) → 28 image_mismatch
 *   metadata that is not valid TUF                    → 21 malformed_package
 *   repository unreachable, HTTP error                → 10 download_failed
 */
import { LengthOrHashMismatchError, UnsignedMetadataError } from '@tufjs/models/dist/error.js';
import {
  BadVersionError,
  DownloadError,
  DownloadLengthMismatchError,
  ExpiredMetadataError,
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
  if (err instanceof ExpiredMetadataError)
    return refuse(
      REPO_CODE.expired,
      'its metadata has expired — a stale or frozen copy; check the station clock too',
    );
  if (err instanceof BadVersionError)
    return refuse(REPO_CODE.rollback, 'it offers older metadata than this station already trusts (a replay)');
  if (err instanceof UnsignedMetadataError)
    return refuse(
      REPO_CODE.untrusted,
      'its metadata is not signed by the keys in the root this station trusts',
    );
  if (err instanceof LengthOrHashMismatchError || err instanceof DownloadLengthMismatchError)
    return refuse(REPO_CODE.mismatch, 'a file does not have the length or hash its signed metadata gives');
  if (err instanceof DownloadError || (err instanceof TypeError && /fetch/i.test(err.message)))
    return new FlashlineError(
      REPO_CODE.unreachable,
      `Repository ${repoUrl} cannot be reached (${why}). Check the address and the network, then retry.`,
      { repoUrl },
      { cause: err },
    );
  return refuse(REPO_CODE.malformed, 'its metadata is not valid');
}
