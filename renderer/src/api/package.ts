/**
 * Package screen view-models: the list of packages already verified on this station, the signer's name,
 * and a refusal told in a technician's words (the status table's message and remedy first; the reader's
 * own words — which may speak of tar headers or gzip — only under "details").
 */
import type { PackageView, SignerView, StatusCodeInfo } from '../../../main/api/types.js';
import { remedyFor } from './status.js';

/** The file name of a path on the station or computer (either separator). */
export function fileName(path: string): string {
  return path.split(/[\\/]/).pop() || path;
}

export interface VerifiedEntry {
  readonly path: string;
  readonly fileName: string;
  readonly id: string;
  readonly version: string;
}

/**
 * One entry per signed manifest: the same package opened twice (by path and by upload, or uploaded again)
 * is the same package, so it is listed once, under the path opened last.
 */
export function verifiedPackages(
  list: readonly { path: string; id: string; version: string; sha256: string }[],
): VerifiedEntry[] {
  const bySha = new Map<string, VerifiedEntry>();
  for (const p of list) {
    bySha.delete(p.sha256);
    bySha.set(p.sha256, { path: p.path, fileName: fileName(p.path), id: p.id, version: p.version });
  }
  return [...bySha.values()].reverse();
}

/** Who signed, in words: the demo key by name, other keys by their trust-store comment, else the key id. */
export function signerName(signer: SignerView): string {
  if (signer.demo) return 'Flashline demo key (for virtual devices only)';
  // A comment reads "Acme release key: used for …"; its first clause names the key.
  const first = signer.comment?.split(/[:.;]/)[0]?.trim();
  return first ? first.slice(0, 80) : `Key ${signer.keyId}`;
}

export function signerNames(pkg: Pick<PackageView, 'signers' | 'signerKeyIds'>): string {
  const names =
    pkg.signers.length > 0 ? pkg.signers.map(signerName) : pkg.signerKeyIds.map((k) => `Key ${k}`);
  return names.join(', ');
}

export interface RefusalView {
  readonly code: number | string;
  /** What happened, in the status table's words (or the service's own message when it has no code). */
  readonly message: string;
  readonly remedy: string;
  /** The internals: the code's name and the raw message, for support. Empty when there is nothing more. */
  readonly details: readonly string[];
}

export function refusalView(
  error: { readonly code: number | string; readonly message: string },
  codes: ReadonlyMap<number, StatusCodeInfo>,
): RefusalView {
  const info = typeof error.code === 'number' ? codes.get(error.code) : undefined;
  if (!info) {
    // Codes outside the table (a file that is not a .flp, a bad path) already come in the reader's words.
    return { code: error.code, message: error.message, remedy: remedyFor(codes, error.code), details: [] };
  }
  if (info.code % 10 === 0) {
    // A decade's general code (e.g. 20 "failed verification") says less than the service's own reason
    // (e.g. the file cannot be read), so the reason leads and the table's words follow as the remedy.
    return {
      code: error.code,
      message: error.message,
      remedy: info.remedy,
      details: [`Status ${info.code} (${info.name}): ${info.message}`],
    };
  }
  return {
    code: error.code,
    message: info.message,
    remedy: info.remedy,
    details: [`Status ${info.code} (${info.name})`, error.message].filter((d) => d.length > 0),
  };
}
