/**
 * `flashline pack --from-qualcomm-dir DIR`: a vendor rescue folder (a Firehose programmer, rawprogram*.xml,
 * patch*.xml and the images they name) → a signed package of kind `qualcomm-rescue`. The layout is parsed
 * and checked exactly as the rescue will read it back (main/protocol/firehose/rescue-plan.ts), so a folder
 * that packs is a folder the rescue can apply. secdata / fuse settings are refused unless allowed, as qdl
 * does. Every refusal is a 21 (malformed package input) that names the file and what to do; nothing is
 * written then. Images are streamed from the folder by the packer (never held in memory).
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { FlashlineError } from '../../common/errors.js';
import { plannedFiles, planRescue, type RescuePlan } from '../../protocol/firehose/index.js';
import { PKG, pkgError } from '../codes.js';
import type { SigningPrivateKey, StationPublicKey } from '../keys.js';
import { type RescueSection, rescueFileName } from '../rescue-manifest.js';
import { type PackResult, packPackage } from '../writer.js';

export interface QualcommRescueOptions {
  readonly dir: string;
  readonly outPath: string;
  readonly products: readonly string[];
  readonly version: string;
  readonly rollbackIndex?: number;
  readonly keys: readonly SigningPrivateKey[];
  /** The programmer's file name in DIR; found by its name (prog_*.elf/.mbn, *firehose*) otherwise. */
  readonly programmer?: string;
  readonly allowSecdata?: boolean;
  readonly msmHwIds?: readonly string[];
  readonly oemPkHashes?: readonly string[];
  readonly encryptTo?: readonly StationPublicKey[];
  readonly created?: Date;
  readonly expires?: Date;
  readonly signal?: AbortSignal;
}

export interface QualcommRescueResult {
  readonly plan: RescuePlan;
  readonly rescue: RescueSection;
  readonly pack: PackResult;
}

/** Largest rawprogram/patch file read (real ones are tens of KiB). */
export const MAX_LAYOUT_XML_BYTES = 4 * 1024 * 1024;

const refuse = (message: string) => pkgError(PKG.malformed, message);

function findProgrammer(names: readonly string[], given?: string): string {
  if (given !== undefined) {
    if (!names.includes(given)) throw refuse(`The programmer ${given} is not in the folder.`);
    return given;
  }
  const found = names.filter((n) => /^prog_.*\.(elf|mbn|bin)$/i.test(n) || /firehose.*\.(elf|mbn)$/i.test(n));
  if (found.length === 1) return found[0]!;
  throw refuse(
    found.length === 0
      ? 'The folder has no Firehose programmer (prog_*.elf / *.mbn); name it with --programmer FILE.'
      : `The folder has several programmers (${found.join(', ')}); choose one with --programmer FILE.`,
  );
}

/** An image id (the manifest's `partition` field) for a file name: letters, digits, _ and -. */
function imageIds(files: readonly string[]): Map<string, string> {
  const ids = new Map<string, string>();
  const used = new Set<string>();
  for (const f of files) {
    const base = f.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 56);
    let id = base;
    for (let n = 2; used.has(id); n++) id = `${base}-${n}`;
    used.add(id);
    ids.set(f, id);
  }
  return ids;
}

async function readLayout(dir: string, name: string): Promise<{ name: string; text: string }> {
  const st = await fs.stat(join(dir, name));
  if (st.size > MAX_LAYOUT_XML_BYTES)
    throw refuse(`${name} is ${st.size} bytes; a layout file is at most ${MAX_LAYOUT_XML_BYTES}.`);
  return { name, text: await fs.readFile(join(dir, name), 'utf8') };
}

export async function packQualcommRescue(options: QualcommRescueOptions): Promise<QualcommRescueResult> {
  const { dir } = options;
  let names: string[];
  try {
    names = (await fs.readdir(dir, { withFileTypes: true }))
      .filter((e) => e.isFile())
      .map((e) => e.name)
      .sort();
  } catch (err) {
    throw new FlashlineError(
      'bad_input',
      `Cannot read the folder ${dir} (${(err as NodeJS.ErrnoException).code}).`,
    );
  }
  const rawprogram = names.filter((n) => /^rawprogram.*\.xml$/i.test(n));
  const patch = names.filter((n) => /^patch.*\.xml$/i.test(n));
  if (rawprogram.length === 0)
    throw refuse(`${dir} has no rawprogram*.xml: give the unpacked vendor rescue folder.`);
  const programmer = findProgrammer(names, options.programmer);
  let plan: RescuePlan;
  try {
    plan = planRescue(
      await Promise.all(rawprogram.map((n) => readLayout(dir, n))),
      await Promise.all(patch.map((n) => readLayout(dir, n))),
      { allowSecdata: options.allowSecdata ?? false },
    );
  } catch (err) {
    if (err instanceof FlashlineError && err.code === 'rescue_layout')
      throw refuse(`The rescue folder is not usable: ${err.message}.`);
    throw err;
  }
  const programmed = plannedFiles(plan);
  const missing = programmed.filter((f) => !names.includes(f));
  if (missing.length > 0)
    throw refuse(
      `The folder lacks ${missing.join(', ')}, named by ${rawprogram.join(', ')}; copy the complete rescue folder.`,
    );
  const files = [...new Set([programmer, ...rawprogram, ...patch, ...programmed])];
  for (const f of files)
    if (!rescueFileName.safeParse(f).success) throw refuse(`${f}: only plain file names can be packed.`);
  const sizes = new Set(plan.programs.map((p) => p.sectorSize));
  const storage =
    sizes.size === 1 ? ({ 512: 'emmc', 4096: 'ufs' } as const)[[...sizes][0] as 512 | 4096] : undefined;
  const rescue: RescueSection = {
    kind: 'qualcomm-edl',
    programmer,
    rawprogram,
    patch,
    ...(storage ? { storage } : {}),
    ...(options.allowSecdata ? { secdata: true } : {}),
    ...(options.msmHwIds?.length ? { msmHwIds: options.msmHwIds.map((s) => s.toLowerCase()) } : {}),
    ...(options.oemPkHashes?.length ? { oemPkHashes: options.oemPkHashes.map((s) => s.toLowerCase()) } : {}),
  };
  const ids = imageIds(files);
  const pack = await packPackage({
    outPath: options.outPath,
    products: options.products,
    version: options.version,
    rollbackIndex: options.rollbackIndex ?? 0,
    images: files.map((f) => ({
      partition: ids.get(f)!,
      file: f,
      source: join(dir, f),
      slotted: false,
      sparse: false,
    })),
    keys: options.keys,
    rescue,
    description: `Qualcomm EDL rescue package made by flashline pack --from-qualcomm-dir from ${dir}.`.slice(
      0,
      4096,
    ),
    ...(options.encryptTo?.length ? { encryptTo: options.encryptTo } : {}),
    ...(options.created ? { created: options.created } : {}),
    ...(options.expires ? { expires: options.expires } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { plan, rescue, pack };
}
