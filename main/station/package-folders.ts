/**
 * Which files a station client may name as a package. A browser on another machine must not make the
 * station open any path it likes (`/etc/shadow`, a device node, another user's files), so a remote station
 * opens packages only below its package folders: `--packages DIR` (repeatable), by default
 * `<FLASHLINE_HOME>/packages`, the uploads folder and the package cache. Paths are compared after resolving symbolic links and
 * `..` on both sides, so a link inside a folder that points outside it is refused too.
 *
 * A loopback station without `--packages` keeps no such limit: its only client is the local user's browser
 * (Host and Origin checks keep other sites out, the token keeps other local users out), who can read those
 * files anyway — and the CLI and tests open packages by path.
 */
import { promises as fs } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { PackagePathPolicy } from '../api/service.js';
import { FlashlineError } from '../common/errors.js';
import { flashlineHome } from '../common/paths.js';
import { cacheDir } from '../package/index.js';
import { defaultUploadDir } from './upload.js';

/** The package cache is included: only verified packages get there (`flashline sync`, the Catalog). */
export const defaultPackageFolders = (uploadDir = defaultUploadDir()): string[] => [
  join(flashlineHome(), 'packages'),
  uploadDir,
  cacheDir(),
];

/** The real path of `p`, or of its deepest existing ancestor joined with the rest (for missing files). */
async function realPathOf(p: string): Promise<string> {
  const absolute = resolve(p);
  try {
    return await fs.realpath(absolute);
  } catch {
    const parent = resolve(absolute, '..');
    if (parent === absolute) return absolute;
    return join(await realPathOf(parent), relative(parent, absolute));
  }
}

function isInside(folder: string, path: string): boolean {
  const rel = relative(folder, path);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

export class PackageFolders implements PackagePathPolicy {
  constructor(readonly folders: readonly string[]) {}

  /** Resolves when `path` lies inside one of the folders; otherwise throws saying where packages may be. */
  async check(path: string): Promise<void> {
    const real = await realPathOf(path);
    for (const folder of this.folders) {
      if (isInside(await realPathOf(folder), real)) return;
    }
    throw new FlashlineError(
      'outside_package_folders',
      `This station opens packages only from its package folders (${this.folders.join(', ')}); '${path.slice(0, 200)}' is outside them. Upload the file from the Package screen, or copy it into one of those folders.`,
    );
  }
}
