/**
 * The repository's working state, `<repo>/repo.json`: the versions last published per role, how long each
 * role's metadata stays valid, and the targets list that the next `publish` signs. Only the operator's
 * tools read it; stations see the signed metadata under `<repo>/public/` only.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { writeJsonAtomic } from '../common/atomic-write.js';
import { FlashlineError } from '../common/errors.js';

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** What a station learns about a package before downloading it (TUF custom target info). */
export const packageInfoSchema = z.strictObject({
  products: z.array(z.string().min(1).max(64)).min(1).max(256),
  version: z.string().min(1).max(64),
  rollbackIndex: z.int().nonnegative(),
  manifestSha256: sha256Hex,
  encrypted: z.boolean(),
});
export type PackageInfo = z.infer<typeof packageInfoSchema>;

export const stagedTargetSchema = z.strictObject({
  length: z.int().positive(),
  sha256: sha256Hex,
  package: packageInfoSchema,
});
export type StagedTarget = z.infer<typeof stagedTargetSchema>;

const DAY = 24 * 3600;
export const DEFAULT_EXPIRY_SECONDS = {
  root: 365 * DAY,
  targets: 90 * DAY,
  snapshot: 7 * DAY,
  timestamp: DAY,
};

const roleNumbers = z.strictObject({
  root: z.int().nonnegative(),
  targets: z.int().nonnegative(),
  snapshot: z.int().nonnegative(),
  timestamp: z.int().nonnegative(),
});

const stateSchema = z.strictObject({
  type: z.literal('flashline-repository'),
  versions: roleNumbers,
  expirySeconds: roleNumbers,
  /** Target path (a file name) → what the next publish signs. */
  targets: z.record(z.string(), stagedTargetSchema),
  /** True when targets changed since the last publish. */
  dirty: z.boolean(),
});
export type RepoState = z.infer<typeof stateSchema>;

export function statePath(repoDir: string): string {
  return join(repoDir, 'repo.json');
}

/** The directory a web server serves: metadata at its top, packages under targets/. */
export function publicDir(repoDir: string): string {
  return join(repoDir, 'public');
}

/** The root of trust to hand to stations (`flashline sync --root`); also served as N.root.json. */
export function shippedRootPath(repoDir: string): string {
  return join(repoDir, 'root.json');
}

export function newState(): RepoState {
  return {
    type: 'flashline-repository',
    versions: { root: 0, targets: 0, snapshot: 0, timestamp: 0 },
    expirySeconds: { ...DEFAULT_EXPIRY_SECONDS },
    targets: {},
    dirty: true,
  };
}

export async function readState(repoDir: string): Promise<RepoState> {
  const path = statePath(repoDir);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch {
    throw new FlashlineError(
      'bad_input',
      `${repoDir} is not a Flashline repository (no repo.json). Create one with 'flashline repo init ${repoDir}'.`,
    );
  }
  const parsed = stateSchema.safeParse(
    (() => {
      try {
        return JSON.parse(text);
      } catch {
        return undefined;
      }
    })(),
  );
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FlashlineError(
      'bad_input',
      `${path} is damaged (${issue ? `${issue.path.join('.') || 'file'}: ${issue.message}` : 'not JSON'}); restore it from a backup.`,
    );
  }
  return parsed.data;
}

export async function writeState(repoDir: string, state: RepoState): Promise<void> {
  await writeJsonAtomic(statePath(repoDir), state);
}
