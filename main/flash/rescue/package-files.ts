/**
 * The verify stage of a rescue: every image of the rescue package read once through the package reader
 * (each block checked against the signed list, each image against its signed hash and size) before
 * anything reaches the device, keeping the small parts the rescue needs whole — the programmer and the
 * rawprogram/patch XML — and then the layout plan made from them. Images are re-read (and re-verified)
 * block by block while they are programmed, so the large ones are never held in memory.
 */
import { FlashlineError } from '../../common/errors.js';
import type { RescueSection, VerifiedPackage } from '../../package/index.js';
import { planRescue, type RescueFileSource, type RescuePlan } from '../../protocol/firehose/index.js';

/** Programmers are a few hundred KiB; layout XML tens of KiB. Larger ones are refused as malformed. */
const MAX_PROGRAMMER_BYTES = 16 * 1024 * 1024;
const MAX_LAYOUT_BYTES = 4 * 1024 * 1024;

export interface RescueContents {
  readonly rescue: RescueSection;
  readonly programmer: Uint8Array;
  readonly plan: RescuePlan;
  readonly files: RescueFileSource;
  /** Bytes the program stage sends. */
  readonly programBytes: number;
}

const malformed = (message: string) => new FlashlineError(21, message);

/** Read and verify every image; `onBytes` sees the running total of verified bytes. */
export async function verifyRescueContents(
  pkg: VerifiedPackage,
  onBytes: (done: number, label: string) => void,
  signal?: AbortSignal,
): Promise<RescueContents> {
  const rescue = pkg.manifest.rescue;
  if (!rescue) throw malformed('This package has no rescue section; use a rescue package.');
  const byFile = new Map(pkg.images.flatMap((i) => (i.file ? [[i.file, i] as const] : [])));
  const keep = new Map<string, number>([
    [rescue.programmer, MAX_PROGRAMMER_BYTES],
    ...[...rescue.rawprogram, ...rescue.patch].map((f) => [f, MAX_LAYOUT_BYTES] as const),
  ]);
  const kept = new Map<string, Buffer>();
  let done = 0;
  for (const img of pkg.images) {
    const limit = img.file ? keep.get(img.file) : undefined;
    if (limit !== undefined && img.size > limit)
      throw malformed(
        `${img.file} is ${img.size} bytes, more than a rescue package may hold for it (${limit}).`,
      );
    const parts: Buffer[] = [];
    for await (const chunk of pkg.openImage(
      img.partition,
      signal ? { signal } : {},
    ) as AsyncIterable<Buffer>) {
      if (limit !== undefined) parts.push(chunk);
      done += chunk.byteLength;
      onBytes(done, img.file ?? img.partition);
    }
    if (limit !== undefined && img.file) kept.set(img.file, Buffer.concat(parts));
  }
  const text = (name: string) => ({ name, text: kept.get(name)!.toString('utf8') });
  const plan = planRescue(rescue.rawprogram.map(text), rescue.patch.map(text), {
    allowSecdata: rescue.secdata === true,
  });
  let programBytes = 0;
  for (const p of plan.programs) {
    if (p.kind !== 'program' || !p.filename) continue;
    const img = byFile.get(p.filename);
    if (!img) throw malformed(`${p.filename}, named by the rawprogram files, is not in the package.`);
    programBytes += Math.max(0, img.size - p.fileSectorOffset * p.sectorSize);
  }
  const files: RescueFileSource = async (filename) => {
    const img = byFile.get(filename);
    if (!img) throw malformed(`${filename} is not in the package.`);
    return {
      size: img.size,
      open: (start) => skipBytes(pkg.openImage(img.partition, signal ? { signal } : {}), start),
    };
  };
  return { rescue, programmer: kept.get(rescue.programmer)!, plan, files, programBytes };
}

/** The stream from byte `start` on (file_sector_offset): earlier bytes are read, verified and dropped. */
async function* skipBytes(source: AsyncIterable<Buffer>, start: number): AsyncGenerator<Uint8Array> {
  let skip = start;
  for await (const chunk of source) {
    if (skip >= chunk.byteLength) {
      skip -= chunk.byteLength;
      continue;
    }
    yield skip > 0 ? chunk.subarray(skip) : chunk;
    skip = 0;
  }
}
