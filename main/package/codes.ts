/**
 * The verify_failed sub-codes this layer raises (the table with messages and remedies lives in
 * main/common/status-codes.ts). Every rejection is a FlashlineError carrying one of these numbers.
 */
import { FlashlineError } from '../common/errors.js';

export const PKG = {
  verifyFailed: 20,
  malformed: 21,
  badSignature: 22,
  untrustedSigner: 23,
  revokedKey: 24,
  expired: 25,
  rollbackRefused: 26,
  wrongProduct: 27,
  imageMismatch: 28,
  cannotDecrypt: 29,
} as const;

export type PackageCode = (typeof PKG)[keyof typeof PKG];

export function pkgError(code: PackageCode, message: string, detail?: unknown): FlashlineError {
  return new FlashlineError(code, message, detail);
}

export function isPackageCode(code: unknown): code is PackageCode {
  return typeof code === 'number' && code >= 20 && code <= 29;
}
