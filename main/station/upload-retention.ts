/**
 * How long uploaded packages are kept (station mode). A browser can only hand the station a copy of a
 * package, so without a policy `<FLASHLINE_HOME>/uploads` grows with every upload. The policy: a newer
 * upload replaces older ones (see prune; removed as soon as no unfinished job or auto-flash reads them),
 * every upload of this run is removed when the station stops, and at start uploads older than a day —
 * left by a station that did not stop cleanly — are removed.
 */
import { promises as fs } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import type { FlashServiceApi } from '../flash/service-api.js';

/** Uploads older than this are removed when a station starts. */
export const STALE_UPLOAD_MS = 24 * 60 * 60 * 1000;

/** Each upload lives in its own folder named by 8 random bytes (see upload.ts#uploadFileName). */
const UPLOAD_FOLDER = /^[0-9a-f]{16}$/;

/** What the retention asks the running service about an upload. */
export interface UploadPolicy {
  /** A job or auto-flash may still read the package at `path`: keep it for now. */
  inUse(path: string): boolean;
  /** The flash service opened and verified the package at `path`. */
  verified(path: string): boolean;
  /** The upload at `path` was removed: drop anything cached about it. */
  forget(path: string): void;
}

const NO_SERVICE: UploadPolicy = { inUse: () => false, verified: () => false, forget: () => {} };

/** The policy as the flash service answers it (none without a flash service: nothing is in use). */
export function servicePolicy(flash: FlashServiceApi | undefined): UploadPolicy {
  if (!flash) return NO_SERVICE;
  return {
    inUse: (path) => flash.packagesInUse().has(path),
    verified: (path) => flash.packages().some((p) => p.path === path),
    // A removed upload must not be answered from the cache (its images can no longer be read).
    forget: (path) => flash.forgetPackage(path),
  };
}

export class UploadRetention {
  readonly dir: string;
  readonly #policy: UploadPolicy;
  /** This run's uploads still on disk, oldest first. */
  #uploads: string[] = [];

  constructor(dir: string, policy: UploadPolicy = NO_SERVICE) {
    this.dir = dir;
    this.#policy = policy;
  }

  /** Where the upload's own folder is, or undefined when `path` is not an upload below `dir`. */
  #folderOf(path: string): string | undefined {
    const folder = dirname(path);
    const rel = relative(this.dir, folder);
    return UPLOAD_FOLDER.test(rel) && !rel.includes(sep) ? folder : undefined;
  }

  /** A new upload was stored at `path`: older ones it replaces are removed. */
  async added(path: string): Promise<void> {
    this.#uploads = [...this.#uploads.filter((p) => p !== path), path];
    await this.prune();
  }

  /**
   * An older upload is replaced — and removed, unless a job or auto-flash still reads it — when it never
   * passed verification, or when a newer upload did. So a refused (e.g. hostile) upload never displaces
   * the package the technician verified before it, and at most the newest verified upload plus the one
   * just sent (not opened yet) stay.
   */
  async prune(): Promise<void> {
    const { inUse, verified } = this.#policy;
    const newest = this.#uploads.length - 1;
    let newestVerified = -1;
    this.#uploads.forEach((p, i) => {
      if (verified(p)) newestVerified = i;
    });
    const keep: string[] = [];
    for (const [i, path] of this.#uploads.entries()) {
      const replaced = i < newest && (!verified(path) || i < newestVerified);
      // One that cannot be removed now (e.g. busy on Windows) is tried again at the next upload or stop.
      if (!replaced || inUse(path) || !(await this.#remove(path))) keep.push(path);
    }
    this.#uploads = keep;
  }

  /** The station stops: remove every upload of this run. */
  async removeAll(): Promise<void> {
    const all = this.#uploads;
    this.#uploads = [];
    for (const path of all) await this.#remove(path);
  }

  /** Remove the upload's folder; false when it could not be removed. Never throws: an upload never fails for it. */
  async #remove(path: string): Promise<boolean> {
    const folder = this.#folderOf(path);
    if (!folder) return true;
    try {
      await fs.rm(folder, { recursive: true, force: true });
    } catch {
      return false;
    }
    this.#policy.forget(path);
    return true;
  }

  /** Remove upload folders last modified more than `maxAgeMs` before `now`; returns how many. */
  async removeStale(maxAgeMs = STALE_UPLOAD_MS, now = Date.now()): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    let removed = 0;
    for (const name of names) {
      if (!UPLOAD_FOLDER.test(name)) continue;
      const folder = join(this.dir, name);
      const stat = await fs.stat(folder).catch(() => undefined);
      if (!stat?.isDirectory() || now - stat.mtimeMs <= maxAgeMs) continue;
      await fs.rm(folder, { recursive: true, force: true });
      removed++;
    }
    return removed;
  }
}
