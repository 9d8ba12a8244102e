/**
 * `flashline pack --from-android-image`: an Android factory/update image (zip or folder) → a signed
 * Flashline package. What is read from each file:
 *
 *   android-info.txt   products and device requirements (android-info.ts)
 *   super_empty.img    the super layout (liblp); its partitions make the images they name `logical`
 *   boot.img           the os_version the phone will report (version / expectedVersion unless given)
 *   *.img              one image each; sparse images (libsparse magic) stay sparse
 *
 * Every refusal happens before the package file is written and says what is wrong with the input.
 * Images are read from the source as streams, twice (hash pass, write pass); none is held in memory.
 */
import { FlashlineError } from '../../common/errors.js';
import {
  formatOsVersion,
  formatPatchLevel,
  parseBootImageHeader,
} from '../../protocol/android/boot-image.js';
import { isSparseHeader, parseSparseHeader } from '../../protocol/fastboot/sparse/index.js';
import { readSuperEmptyStream, type SuperMetadata } from '../../protocol/fastboot/super/index.js';
import { PKG } from '../codes.js';
import type { SigningPrivateKey, StationPublicKey } from '../keys.js';
import type { ImageKind } from '../manifest.js';
import { type PackImageInput, type PackResult, packPackage } from '../writer.js';
import { parseAndroidInfo, requirementsForPackage } from './android-info.js';
import { type AndroidImageSource, MAX_IMAGE_BYTES, openAndroidImage, refuse } from './source.js';

/** super_empty.img is geometry plus one metadata copy: kilobytes. More is not a super_empty.img. */
export const MAX_SUPER_EMPTY_BYTES = 4 * 1024 * 1024;

/** Partitions that are logical on every Android 10+ device with dynamic partitions. */
export const KNOWN_LOGICAL = [
  'system',
  'system_ext',
  'system_dlkm',
  'vendor',
  'vendor_dlkm',
  'product',
  'odm',
  'odm_dlkm',
] as const;

/** Images `fastboot update` writes to the other slot; a Flashline package writes only the inactive slot. */
const SECONDARY = /^(system|vendor|boot)_other\.img$/;
const PARTITION = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/;

export interface AndroidImportOptions {
  readonly input: string;
  readonly outPath: string;
  readonly keys: readonly SigningPrivateKey[];
  readonly encryptTo?: readonly StationPublicKey[];
  /** Picks one product of several in android-info.txt, or names it when there is none. */
  readonly product?: string;
  /** Default: the boot image's os_version. */
  readonly version?: string;
  /** Default: the boot image's os_version, else `version`. */
  readonly expectedVersion?: string;
  /** Default: the boot image's security patch level as YYYYMM (monotonic across monthly releases), else 0. */
  readonly rollbackIndex?: number;
  readonly created?: Date;
  readonly expires?: Date;
  readonly blockSize?: number;
  readonly signal?: AbortSignal;
}

export interface PlannedImage {
  readonly file: string;
  readonly partition: string;
  readonly kind: ImageKind;
  readonly slotted: boolean;
  readonly sparse: boolean;
  /** Stored size (the sparse file's size for a sparse image). */
  readonly size: number;
  /** Size once written (a sparse image's expanded size). */
  readonly expandedSize: number;
}

export interface AndroidImportPlan {
  readonly source: string;
  readonly products: readonly string[];
  readonly deviceRequirements: Record<string, string[]>;
  readonly version: string;
  readonly expectedVersion: string;
  readonly rollbackIndex: number;
  readonly images: readonly PlannedImage[];
  readonly superLayout?: SuperMetadata;
  /** Everything read but not carried into the package, one sentence each. */
  readonly notes: readonly string[];
}

export interface AndroidImportResult {
  readonly plan: AndroidImportPlan;
  readonly pack: PackResult;
}

/** Read, check and pack. Nothing is written when the input is refused. */
export async function packAndroidImage(options: AndroidImportOptions): Promise<AndroidImportResult> {
  const source = await openAndroidImage(options.input);
  try {
    const plan = await planAndroidImage(source, options);
    const images: PackImageInput[] = plan.images.map((i) => ({
      partition: i.partition,
      source: async () => source.open(i.file),
      size: i.size,
      slotted: i.slotted,
      sparse: i.sparse,
      ...(i.kind !== 'partition' ? { kind: i.kind } : {}),
    }));
    const pack = await packPackage({
      outPath: options.outPath,
      products: plan.products,
      version: plan.version,
      expectedVersion: plan.expectedVersion,
      rollbackIndex: plan.rollbackIndex,
      deviceRequirements: plan.deviceRequirements,
      images,
      keys: options.keys,
      description: `Made by flashline pack --from-android-image from ${source.description}.`.slice(0, 4096),
      ...(options.encryptTo && options.encryptTo.length > 0 ? { encryptTo: options.encryptTo } : {}),
      ...(options.created ? { created: options.created } : {}),
      ...(options.expires ? { expires: options.expires } : {}),
      ...(options.blockSize ? { blockSize: options.blockSize } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { plan, pack };
  } finally {
    await source.close();
  }
}

/** Everything decided from the input before a byte is written: products, requirements, images, versions. */
export async function planAndroidImage(
  source: AndroidImageSource,
  options: Pick<AndroidImportOptions, 'product' | 'version' | 'expectedVersion' | 'rollbackIndex'>,
): Promise<AndroidImportPlan> {
  const where = source.description;
  const notes = [...source.notes];
  const infoSize = source.files.get('android-info.txt');
  if (infoSize === undefined) {
    throw refuse(
      `${where} has no android-info.txt, so it is not an Android update image (the zip 'fastboot update' takes: android-info.txt, boot.img, super_empty.img, …).`,
      'no_android_info',
    );
  }
  const info = parseAndroidInfo(
    await source.head('android-info.txt', 64 * 1024 + 1),
    `${where}: android-info.txt`,
  );
  const req = requirementsForPackage(info, options.product);
  notes.push(...req.notes);

  let superLayout: SuperMetadata | undefined;
  const superSize = source.files.get('super_empty.img');
  if (superSize !== undefined) {
    if (superSize > MAX_SUPER_EMPTY_BYTES) {
      throw refuse(
        `${where}: super_empty.img is ${superSize} bytes; a super layout is geometry plus metadata (kilobytes, at most ${MAX_SUPER_EMPTY_BYTES}). The image is damaged.`,
        'absurd_size',
      );
    }
    try {
      // Streamed through the entry's CRC check; the codec bounds what it collects.
      superLayout = await readSuperEmptyStream(source.open('super_empty.img'));
    } catch (err) {
      if (err instanceof FlashlineError && err.code === PKG.malformed) throw err;
      const why = err instanceof Error ? err.message : String(err);
      throw refuse(
        `${where}: super_empty.img is not a valid super layout (${why}). The image is damaged or not an Android 10+ image; download it again.`,
        'bad_super_empty',
      );
    }
  }
  const logical = superLayout ? logicalNames(superLayout) : undefined;

  const images: PlannedImage[] = [];
  const imgFiles = [...source.files.keys()]
    .filter((f) => f.endsWith('.img') && f !== 'super_empty.img')
    .sort();
  for (const f of source.files.keys()) {
    if (!f.endsWith('.img') && f !== 'android-info.txt')
      notes.push(`${f} is not an image (*.img); left aside.`);
  }
  for (const file of imgFiles) {
    if (SECONDARY.test(file)) {
      notes.push(
        `${file} is for the other slot (fastboot writes it there); a Flashline package writes the inactive slot only. Left aside.`,
      );
      continue;
    }
    const partition = file.slice(0, -'.img'.length);
    if (!PARTITION.test(partition)) {
      throw refuse(
        `${where}: ${file} does not name a partition (letters, digits, _ and -, at most 63). Rename or remove it.`,
        'bad_image_name',
      );
    }
    const size = source.files.get(file)!;
    if (size === 0)
      throw refuse(`${where}: ${file} is empty. The image is damaged; download it again.`, 'empty_image');
    const head = await source.head(file, 28);
    const sparse = isSparseHeader(head);
    let expandedSize = size;
    if (sparse) {
      try {
        const h = parseSparseHeader(head);
        expandedSize = h.totalBlocks * h.blockSize;
      } catch (err) {
        throw refuse(
          `${where}: ${file} starts like a sparse image but its header is invalid (${(err as Error).message}).`,
          'bad_sparse',
        );
      }
      if (expandedSize > MAX_IMAGE_BYTES) {
        throw refuse(
          `${where}: ${file} claims to expand to ${expandedSize} bytes, more than any partition.`,
          'absurd_size',
        );
      }
    }
    let kind: ImageKind = 'partition';
    let slotted = true;
    if (logical) {
      const l = logical.get(partition);
      if (l) {
        kind = 'logical';
        slotted = l.slotted;
      } else if ((KNOWN_LOGICAL as readonly string[]).includes(partition)) {
        throw refuse(
          `${where}: ${file} is a logical partition on Android 10+ devices, but super_empty.img does not list ${partition} (it lists ${[...logical.keys()].join(', ') || 'none'}). The image set is inconsistent; download it again.`,
          'logical_not_in_layout',
        );
      }
    }
    images.push({ file, partition, kind, slotted, sparse, size, expandedSize });
  }
  if (superLayout && logical) {
    checkFits(superLayout, logical, images, where);
    const name = superLayout.blockDevices[0]?.partitionName ?? 'super';
    if (!PARTITION.test(name)) {
      throw refuse(
        `${where}: super_empty.img names its super partition '${name}', which is not a partition name (letters, digits, _ and -). The image is damaged.`,
        'bad_super_empty',
      );
    }
    images.push({
      file: 'super_empty.img',
      partition: name,
      kind: 'super-layout',
      slotted: false,
      sparse: false,
      size: superSize!,
      expandedSize: superSize!,
    });
  }
  if (!superLayout) {
    const dynamic = images.filter((i) => (KNOWN_LOGICAL as readonly string[]).includes(i.partition));
    if (dynamic.length > 0) {
      notes.push(
        `There is no super_empty.img: ${dynamic.map((i) => i.partition).join(', ')} are packed as physical partitions (an image for a device without dynamic partitions, before Android 10).`,
      );
    }
  }
  if (images.length === 0) throw refuse(`${where} holds no images (*.img).`, 'no_images');
  if (images.some((i) => i.partition === 'super' && i.kind !== 'super-layout') && superLayout) {
    throw refuse(
      `${where} holds both super.img and super_empty.img; pass an image with one of them.`,
      'two_supers',
    );
  }
  // Physical partitions first (bootloader), then the layout and the logical partitions (fastbootd).
  const rank = (k: ImageKind) => (k === 'partition' ? 0 : k === 'super-layout' ? 1 : 2);
  images.sort((a, b) => rank(a.kind) - rank(b.kind));

  const boot = await bootVersion(source, where);
  const version = options.version ?? boot?.version;
  if (!version) {
    throw refuse(
      `${where}: the version cannot be read from boot.img (${boot ? 'its os_version is not set' : 'there is no Android boot image'}); give it with --version.`,
      'no_version',
    );
  }
  const expectedVersion = options.expectedVersion ?? boot?.version ?? version;
  const rollbackIndex = options.rollbackIndex ?? boot?.patchIndex ?? 0;
  if (options.rollbackIndex === undefined) {
    notes.push(
      boot?.patchIndex !== undefined
        ? `Rollback index ${rollbackIndex} is the boot image's security patch level (YYYYMM); give --rollback-index to choose another.`
        : 'Rollback index 0: the boot image has no security patch level; give --rollback-index to choose one.',
    );
  }
  return {
    source: where,
    products: req.products,
    deviceRequirements: req.deviceRequirements,
    version,
    expectedVersion,
    rollbackIndex,
    images,
    ...(superLayout ? { superLayout } : {}),
    notes,
  };
}

/** Base names of the layout's partitions (`system_a` → `system`), and whether they come per slot. */
function logicalNames(md: SuperMetadata): Map<string, { slotted: boolean; names: string[] }> {
  const out = new Map<string, { slotted: boolean; names: string[] }>();
  for (const p of md.partitions) {
    const m = /^(.+)_([ab])$/.exec(p.name);
    const base = m ? m[1]! : p.name;
    const prev = out.get(base);
    if (prev) prev.names.push(p.name);
    else out.set(base, { slotted: m !== null, names: [p.name] });
  }
  return out;
}

/** Each slot's logical images must fit their groups' maximum sizes and the super block device. */
function checkFits(
  md: SuperMetadata,
  logical: Map<string, { slotted: boolean; names: string[] }>,
  images: readonly PlannedImage[],
  where: string,
): void {
  const device = md.blockDevices[0];
  const usable = device ? device.size - device.firstLogicalSector * 512 : Number.POSITIVE_INFINITY;
  const perGroup = new Map<string, number>();
  let total = 0;
  for (const img of images) {
    if (img.kind !== 'logical') continue;
    const l = logical.get(img.partition)!;
    // The slot Flashline writes is decided on the device; the `_a` entry stands for either slot's group.
    const name = l.names.find((n) => n.endsWith('_a')) ?? l.names[0]!;
    const part = md.partitions.find((p) => p.name === name)!;
    const group = md.groups.find((g) => g.name === part.group);
    const bytes = img.expandedSize;
    if (bytes > usable) {
      throw refuse(
        `${where}: ${img.file} is ${bytes} bytes once written, larger than the whole super partition in super_empty.img (${usable} bytes usable). The image does not fit; it is not for this layout.`,
        'image_too_large',
        { partition: img.partition, size: bytes, limit: usable },
      );
    }
    total += bytes;
    if (group && group.maximumSize > 0) {
      const sum = (perGroup.get(group.name) ?? 0) + bytes;
      perGroup.set(group.name, sum);
      if (sum > group.maximumSize) {
        throw refuse(
          `${where}: ${img.file} does not fit its group ${group.name} in super_empty.img: the group's partitions need ${sum} bytes, its maximum is ${group.maximumSize}.`,
          'image_too_large',
          { partition: img.partition, group: group.name, size: sum, limit: group.maximumSize },
        );
      }
    }
  }
  if (total > usable) {
    throw refuse(
      `${where}: the logical images need ${total} bytes per slot, more than super_empty.img's super partition holds (${usable} bytes usable).`,
      'image_too_large',
      { size: total, limit: usable },
    );
  }
}

async function bootVersion(
  source: AndroidImageSource,
  where: string,
): Promise<{ version?: string; patchIndex?: number } | undefined> {
  if (!source.files.has('boot.img')) return undefined;
  const head = await source.head('boot.img', 4096);
  let h: ReturnType<typeof parseBootImageHeader>;
  try {
    h = parseBootImageHeader(head);
  } catch (err) {
    throw refuse(
      `${where}: boot.img has an invalid boot image header (${(err as Error).message}).`,
      'bad_boot_image',
    );
  }
  if (!h) return undefined;
  const v = h.osVersion;
  const version = v.major + v.minor + v.patch > 0 ? formatOsVersion(v) : undefined;
  const patch = formatPatchLevel(h.osPatchLevel);
  const patchIndex = patch ? Number(patch.replace('-', '')) : undefined;
  return { ...(version ? { version } : {}), ...(patchIndex !== undefined ? { patchIndex } : {}) };
}
