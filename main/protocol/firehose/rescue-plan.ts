/**
 * A vendor rescue layout applied the way qdl applies it: every rawprogram*.xml (`<program>` streams its
 * file, `<erase>` erases), then every patch*.xml (DISK patches only, expressions left to the device), then
 * setbootablestoragedrive from the partition labelled xbl / xbl_a / sbl1. Where the files come from (a
 * signed package's verified images) is the caller's: this module sees names, sizes and streams only.
 * secdata and fuse settings are refused unless allowed, as qdl refuses them.
 */
import { FlashlineError } from '../../common/errors.js';
import type { CallOptions, FirehoseClient } from './client.js';
import { type PatchEntry, type ProgramEntry, parsePatches, parseRawprogram } from './sectors.js';
import { parseXml } from './xml.js';

export interface RescuePlan {
  readonly programs: readonly ProgramEntry[];
  readonly patches: readonly PatchEntry[];
}

export interface RescueXmlFile {
  readonly name: string;
  readonly text: string;
}

/** A file the plan programs: its size and its bytes from `start` on (a stream, never the whole file). */
export interface RescueFile {
  readonly size: number;
  open(start: number): AsyncIterable<Uint8Array>;
}

export type RescueFileSource = (filename: string) => Promise<RescueFile>;

export type RescueStep = 'program' | 'erase' | 'patch' | 'bootable';

export interface ApplyRescueOptions extends CallOptions {
  readonly onStep?: (step: RescueStep, what: string) => void;
  /** Bytes of program data sent so far across the whole plan, of `programBytes(plan, sizes)`. */
  readonly onProgress?: (label: string, sentInPlan: number) => void;
}

/** A malformed rescue layout (bad XML, missing or unsafe file): the package or folder is at fault (21). */
export class RescueLayoutError extends FlashlineError {
  constructor(message: string) {
    super('rescue_layout', message);
    this.name = 'RescueLayoutError';
  }
}

const SECURITY = /secdata|fuse|secureboot|secure[ _-]?boot|\bsec\.dat\b/i;

/** Names the security-setting element of a rawprogram/patch document, or null (qdl's secdata rule, widened). */
function securityElement(text: string): string | null {
  for (const el of parseXml(text).children) {
    for (const key of ['label', 'filename', 'what'] as const) {
      const v = el.attrs[key];
      if (v && SECURITY.test(v)) return `<${el.tag} ${key}="${v}">`;
    }
  }
  return null;
}

/** Parse and check the layout files (nothing is sent). @throws RescueLayoutError */
export function planRescue(
  rawprogram: readonly RescueXmlFile[],
  patch: readonly RescueXmlFile[],
  opts: { allowSecdata?: boolean } = {},
): RescuePlan {
  if (rawprogram.length === 0) throw new RescueLayoutError('there is no rawprogram*.xml');
  const parse = <T>(file: RescueXmlFile, fn: (text: string) => T[]): T[] => {
    try {
      const out = fn(file.text);
      const security = opts.allowSecdata ? null : securityElement(file.text);
      if (security)
        throw new Error(
          `${security} would change security settings (secdata / fuses); pass --allow-secdata only if you know it is right`,
        );
      return out;
    } catch (err) {
      throw new RescueLayoutError(`${file.name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  const programs = rawprogram.flatMap((f) => parse(f, parseRawprogram));
  const patches = patch.flatMap((f) => parse(f, parsePatches));
  for (const p of programs)
    if (p.filename && !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/.test(p.filename))
      throw new RescueLayoutError(
        `${p.label || 'an entry'} names '${p.filename}': only plain file names inside the rescue folder are allowed`,
      );
  return { programs, patches };
}

/** The files the plan programs (each once), in order. */
export function plannedFiles(plan: RescuePlan): string[] {
  return [...new Set(plan.programs.filter((p) => p.kind === 'program' && p.filename).map((p) => p.filename))];
}

/** Bytes the plan sends, given each file's size (the file's data after its sector offset). */
export function programBytes(plan: RescuePlan, sizeOf: (file: string) => number): number {
  let total = 0;
  for (const p of plan.programs)
    if (p.kind === 'program' && p.filename)
      total += Math.max(0, sizeOf(p.filename) - p.fileSectorOffset * p.sectorSize);
  return total;
}

/** Send the plan: program/erase, patch, set the bootable drive. */
export async function applyRescuePlan(
  client: FirehoseClient,
  plan: RescuePlan,
  files: RescueFileSource,
  opts: ApplyRescueOptions = {},
): Promise<void> {
  const call = opts.signal ? { signal: opts.signal } : {};
  let sentBefore = 0;
  for (const p of plan.programs) {
    const range = {
      sectorSize: p.sectorSize,
      physicalPartition: p.physicalPartition,
      startSector: p.startSector,
    };
    if (p.kind === 'erase') {
      opts.onStep?.('erase', p.label);
      await client.erase({ ...range, numSectors: p.numSectors }, call);
      continue;
    }
    if (!p.filename) continue; // entries without a file only describe the layout
    const file = await files(p.filename);
    const skip = p.fileSectorOffset * p.sectorSize;
    const size = Math.max(0, file.size - skip);
    const numSectors = p.numSectors > 0 ? p.numSectors : Math.ceil(size / p.sectorSize);
    if (size > numSectors * p.sectorSize)
      throw new RescueLayoutError(
        `${p.filename} (${size} bytes) does not fit ${p.label} (${numSectors} sectors)`,
      );
    // Only the file's sectors are sent (a partition larger than its image is not padded to the end).
    const sent = Math.ceil(size / p.sectorSize);
    if (sent === 0) continue;
    opts.onStep?.('program', p.label || p.filename);
    const label = p.label || p.filename;
    const base = sentBefore;
    await client.program(
      { ...range, numSectors: sent, label: p.label, filename: p.filename },
      size,
      file.open(skip),
      { ...call, ...(opts.onProgress ? { onProgress: (d) => opts.onProgress?.(label, base + d) } : {}) },
    );
    sentBefore += size;
  }
  for (const patch of plan.patches) {
    opts.onStep?.('patch', `sector ${patch.startSector} +${patch.byteOffset}`);
    await client.patch(patch, call);
  }
  const boot = plan.programs.find((p) => ['xbl', 'xbl_a', 'sbl1'].includes(p.label));
  if (boot) {
    opts.onStep?.('bootable', `drive ${boot.physicalPartition}`);
    await client.setBootableStorageDrive(boot.physicalPartition, call);
  }
}
