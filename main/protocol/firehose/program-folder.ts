/**
 * Apply a vendor rescue folder the way qdl does: every rawprogram*.xml (`<program>` streams its file,
 * `<erase>` erases), then every patch*.xml (DISK patches only, expressions left to the device), then
 * setbootablestoragedrive from the partition labelled xbl/xbl_a/sbl1. Files are resolved inside the folder
 * only; `secdata` (fuse-related) is refused unless allowed, as qdl refuses it.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { FlashlineError } from '../../common/errors.js';
import type { ByteProgress } from '../../transport/types.js';
import type { CallOptions, FirehoseClient } from './client.js';
import { type PatchEntry, type ProgramEntry, parsePatches, parseRawprogram } from './sectors.js';

export interface ProgramFolderOptions extends CallOptions {
  readonly allowSecdata?: boolean;
  readonly onStep?: (what: string) => void;
  readonly onProgress?: (label: string, ...p: Parameters<ByteProgress>) => void;
}

export interface FolderPlan {
  readonly programs: readonly ProgramEntry[];
  readonly patches: readonly PatchEntry[];
}

const bad = (message: string) => new FlashlineError('bad_input', message);

/** Read and validate the folder's XML files (nothing is sent). @throws FlashlineError bad_input */
export async function planFolder(dir: string, opts: { allowSecdata?: boolean } = {}): Promise<FolderPlan> {
  const names = (await fs.readdir(dir)).sort();
  const raw = names.filter((n) => /^rawprogram.*\.xml$/i.test(n));
  if (raw.length === 0) throw bad(`${dir} has no rawprogram*.xml; give the unpacked rescue folder`);
  const programs: ProgramEntry[] = [];
  const patches: PatchEntry[] = [];
  const parse = async <T>(name: string, fn: (text: string) => T[]): Promise<T[]> => {
    try {
      return fn(await fs.readFile(join(dir, name), 'utf8'));
    } catch (err) {
      throw bad(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  for (const n of raw) programs.push(...(await parse(n, parseRawprogram)));
  for (const n of names.filter((x) => /^patch.*\.xml$/i.test(x)))
    patches.push(...(await parse(n, parsePatches)));
  for (const p of programs) {
    if (/secdata/i.test(p.label) && p.filename && !opts.allowSecdata)
      throw bad(
        `${p.label} would be programmed: secdata holds security settings; pass --allow-secdata only if you know it is right`,
      );
    if (p.filename) inside(dir, p.filename);
  }
  return { programs, patches };
}

function inside(dir: string, file: string): string {
  const full = resolve(dir, file);
  const rel = relative(resolve(dir), full);
  if (rel.startsWith('..') || rel === '' || resolve(rel) === rel)
    throw bad(`${file} is outside the rescue folder`);
  return full;
}

export async function programFolder(
  client: FirehoseClient,
  dir: string,
  plan: FolderPlan,
  opts: ProgramFolderOptions = {},
): Promise<void> {
  const call = opts.signal ? { signal: opts.signal } : {};
  for (const p of plan.programs) {
    const range = {
      sectorSize: p.sectorSize,
      physicalPartition: p.physicalPartition,
      startSector: p.startSector,
    };
    if (p.kind === 'erase') {
      opts.onStep?.(`erase ${p.label}`);
      await client.erase({ ...range, numSectors: p.numSectors }, call);
      continue;
    }
    if (!p.filename) continue; // entries without a file only describe the layout
    const path = inside(dir, p.filename);
    const { size: fileSize } = await fs.stat(path).catch(() => {
      throw bad(`${p.filename} (for ${p.label}) is missing from the folder`);
    });
    const skip = p.fileSectorOffset * p.sectorSize;
    const size = Math.max(0, fileSize - skip);
    const numSectors = p.numSectors > 0 ? p.numSectors : Math.ceil(size / p.sectorSize);
    if (size > numSectors * p.sectorSize)
      throw bad(`${p.filename} (${size} bytes) does not fit ${p.label} (${numSectors} sectors)`);
    opts.onStep?.(`program ${p.label || p.filename}`);
    // Only the file's sectors are sent (a partition larger than its image is not padded to the end).
    const sent = size === 0 ? 0 : Math.ceil(size / p.sectorSize);
    if (sent === 0) continue;
    await client.program(
      { ...range, numSectors: sent, label: p.label, filename: p.filename },
      size,
      createReadStream(path, { start: skip, highWaterMark: 1 << 20 }),
      { ...call, ...(opts.onProgress ? { onProgress: (d, t) => opts.onProgress?.(p.label, d, t) } : {}) },
    );
  }
  for (const patch of plan.patches) {
    opts.onStep?.(`patch sector ${patch.startSector} +${patch.byteOffset}`);
    await client.patch(patch, call);
  }
  const boot = plan.programs.find((p) => ['xbl', 'xbl_a', 'sbl1'].includes(p.label));
  if (boot) {
    opts.onStep?.(`set bootable storage drive ${boot.physicalPartition}`);
    await client.setBootableStorageDrive(boot.physicalPartition, call);
  }
}
