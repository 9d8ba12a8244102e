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
import { type PackImageInput, packPackage } from '../writer.js';
import type { AndroidImportOptions, AndroidImportResult } from './import-types.js';
import { planAndroidImage } from './plan.js';
import { openAndroidImage } from './source.js';

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
