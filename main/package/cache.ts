/**
 * The local package cache (<FLASHLINE_HOME>/cache): a package is verified first, then copied in atomically
 * under its manifest hash, so the cache only ever holds whole, verified packages (a crash leaves the old
 * state or the new one, never a partial file under a cache name).
 */
import { createReadStream, promises as fs } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { flashlineHome } from '../common/paths.js';
import { pkgError } from './codes.js';
import type { OpenPackageOptions } from './head-checks.js';
import { type VerifyResult, verifyPackage } from './verify.js';

export function cacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(flashlineHome(env), 'cache');
}

export interface ImportResult {
  readonly path: string;
  readonly manifestSha256: string;
  readonly verify: VerifyResult;
  /** False when an identical package was already cached. */
  readonly copied: boolean;
}

/** Verify `source` and copy it into the cache; a refused package throws its 2x FlashlineError. */
export async function importPackage(
  source: string,
  options: OpenPackageOptions & { dir?: string },
): Promise<ImportResult> {
  const verify = await verifyPackage(source, options);
  if (!verify.ok || !verify.summary) {
    throw pkgError(verify.code as Parameters<typeof pkgError>[0], verify.detail, verify.data);
  }
  const manifestSha256 = verify.summary.manifestSha256;
  const dest = join(options.dir ?? cacheDir(), `${manifestSha256}.flp`);
  const existing = await fs.stat(dest).catch(() => undefined);
  const { size } = await fs.stat(source);
  if (existing?.size === size) return { path: dest, manifestSha256, verify, copied: false };
  await writeFileAtomic(dest, createReadStream(source, { highWaterMark: 4 * 1024 * 1024 }), {
    expectedSize: size,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { path: dest, manifestSha256, verify, copied: true };
}
