/**
 * Faults of the station's own disk (the Flashline home: journal, reports, package cache, uploads), told
 * apart from device faults so a full, read-only or unwritable disk ends only the job that hit it, with status
 * 19 (station_storage) and a message that names the path and what to do — never a raw errno string.
 */

import { promises as fs } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { FlashlineError } from './errors.js';

/** errno codes that mean "this station cannot store what it must", by what the technician should do. */
const STORAGE_ERRNO: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is used up',
  EROFS: 'the disk is mounted read-only',
  EACCES: 'Flashline has no permission to write there',
  EPERM: 'Flashline has no permission to write there',
  EIO: 'the disk reported an I/O error',
  EMFILE: 'too many files are open',
  ENFILE: 'too many files are open',
};

export interface StorageFault {
  /** The errno code (ENOSPC, EROFS, …) or 'insufficient_disk_space' from the free-space check. */
  readonly reason: string;
  /** Plain words for the reason. */
  readonly words: string;
  readonly path?: string;
}

/** The storage fault `err` (or one of its causes) is, if any. */
export function storageFault(err: unknown): StorageFault | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof FlashlineError && e.code === 'insufficient_disk_space') {
      const dir = (e.detail as { dir?: string } | undefined)?.dir;
      return { reason: 'insufficient_disk_space', words: 'the disk is full', ...(dir ? { path: dir } : {}) };
    }
    const errno = (e as NodeJS.ErrnoException).code;
    if (typeof errno === 'string' && errno in STORAGE_ERRNO) {
      const path = (e as NodeJS.ErrnoException).path;
      return { reason: errno, words: STORAGE_ERRNO[errno] as string, ...(path ? { path } : {}) };
    }
  }
  return undefined;
}

/** One line for a technician: what could not be stored, where, and why. */
export function describeStorageFault(what: string, fault: StorageFault): string {
  return `Flashline could not write ${what}${fault.path ? ` (${fault.path})` : ''}: ${fault.words} (${fault.reason}).`;
}

/**
 * The file operations the station's own records (journal, report store) go through. Production uses the
 * real filesystem; tests inject one whose writes fail, to prove a disk fault ends one job and not the process.
 */
export interface DiskIo {
  open(path: string, flags: string, mode?: number): Promise<FileHandle>;
}

export const nodeDisk: DiskIo = { open: (path, flags, mode) => fs.open(path, flags, mode) };
