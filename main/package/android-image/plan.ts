/**
 * The plan of `flashline pack --from-android-image`: everything decided from the input before a byte is
 * written. Every refusal happens here, before the package file is written, and says what is wrong with the
 * input.
 */
import { FlashlineError } from '../../common/errors.js';
import { isSparseHeader, parseSparseHeader } from '../../protocol/fastboot/sparse/index.js';
import { readSuperEmptyStream, type SuperMetadata } from '../../protocol/fastboot/super/index.js';
import { PKG } from '../codes.js';
import type { ImageKind } from '../manifest.js';
import { parseAndroidInfo, requirementsForPackage } from './android-info.js';
import { bootVersion } from './boot-version.js';
import type { AndroidImportOptions, AndroidImportPlan, PlannedImage } from './import-types.js';
import { checkFits, KNOWN_LOGICAL, logicalNames, MAX_SUPER_EMPTY_BYTES } from './logical-images.js';
import { type AndroidImageSource, MAX_IMAGE_BYTES, refuse } from './source-contract.js';

/** Images `fastboot update` writes to the other slot; a Flashline package writes only the inactive slot. */
const SECONDARY = /^(system|vendor|boot)_other\.img$/;
const PARTITION = /^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/;

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
