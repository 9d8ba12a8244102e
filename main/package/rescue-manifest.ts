/**
 * The `rescue` section of a manifest (format 1.2): a package of kind `qualcomm-rescue` carries a Firehose
 * programmer, the rawprogram*.xml / patch*.xml files and the images they name, each as an ordinary signed
 * image entry whose `file` is its name in the vendor folder. The section says which file plays which part
 * and, optionally, which devices (MSM HW id, OEM PK hash as Sahara reports them) the package is for.
 * docs/package-format.md describes it; main/package/qualcomm-rescue/ builds it.
 */
import { z } from 'zod';

/** A file name as a vendor folder and rawprogram `filename=` attributes write it (no directories). */
export const rescueFileName = z
  .string()
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/, 'a plain file name: letters, digits, . _ - (max 128)');

export const RESCUE_STORAGE_TYPES = ['emmc', 'ufs', 'nand'] as const;

export const rescueSectionSchema = z.strictObject({
  kind: z.literal('qualcomm-edl'),
  /** The Firehose programmer (an image `file`). */
  programmer: rescueFileName,
  /** rawprogram*.xml files, applied in this order. */
  rawprogram: z.array(rescueFileName).min(1).max(16),
  /** patch*.xml files, applied in this order after every rawprogram. */
  patch: z.array(rescueFileName).max(16),
  /** The publisher allowed secdata / fuse settings (`pack --allow-secdata`); otherwise they are refused. */
  secdata: z.literal(true).optional(),
  /** The storage the layout is for (tried first; detected otherwise). */
  storage: z.enum(RESCUE_STORAGE_TYPES).optional(),
  /** MSM HW ids (16 hex digits, as Sahara command mode reports them) this package is for. */
  msmHwIds: z
    .array(z.string().regex(/^[0-9a-f]{16}$/, '16 lowercase hex digits'))
    .min(1)
    .max(64)
    .optional(),
  /** OEM PK hashes (SHA-256, 64 hex digits) of the devices this package is for. */
  oemPkHashes: z
    .array(z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits'))
    .min(1)
    .max(64)
    .optional(),
});

export type RescueSection = z.infer<typeof rescueSectionSchema>;

interface ImageLike {
  readonly partition: string;
  readonly file?: string | undefined;
  readonly slotted: boolean;
  readonly sparse: boolean;
  readonly kind?: string | undefined;
}

/** The rules a rescue section adds to the manifest; each broken one is reported through `issue`. */
export function checkRescueSection(
  rescue: RescueSection | undefined,
  images: readonly ImageLike[],
  hasInstall: boolean,
  issue: (message: string) => void,
): void {
  if (!rescue) {
    for (const img of images)
      if (img.file !== undefined)
        issue(`image ${img.partition} names a file but the package has no rescue section`);
    return;
  }
  if (hasInstall) issue('a rescue package has no install steps (its rawprogram/patch files say what to do)');
  const files = new Set<string>();
  for (const img of images) {
    if (img.file === undefined) issue(`image ${img.partition} of a rescue package has no file name`);
    else if (files.has(img.file)) issue(`duplicate file ${img.file}`);
    else files.add(img.file);
    if (img.slotted || img.sparse || (img.kind !== undefined && img.kind !== 'partition'))
      issue(`image ${img.partition} of a rescue package must be a plain, unslotted partition image`);
  }
  for (const name of [rescue.programmer, ...rescue.rawprogram, ...rescue.patch])
    if (!files.has(name)) issue(`rescue file ${name} is not an image of the package`);
}
