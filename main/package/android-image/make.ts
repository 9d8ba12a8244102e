/**
 * `flashline virtual-device make-android-image`: a small Android update image shaped like the ones
 * technicians receive, for tests, the demo and training. The zip is written as a stream (yazl):
 *
 *   android-info.txt   `require board=<product>`
 *   boot.img           an Android boot image (header v3) whose os_version is the version, so the stock-android
 *                      virtual phone reports that version once it boots it
 *   super_empty.img    the super layout, written by Flashline's super codec: groups `main_a`/`main_b`, each
 *                      holding `system`, `vendor`, `product` of its slot (sizes 0; `fastboot update` and the
 *                      engine size them to the images)
 *   system.img,        sparse images (libsparse), deterministic content: a data region then zeroes
 *   vendor.img (+ product.img when --product-size is given)
 */
import { createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import yazl from 'yazl';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { FlashlineError } from '../../common/errors.js';
import { encodeSparse, scanRawLayout } from '../../protocol/fastboot/sparse/index.js';
import {
  encodeSuperEmpty,
  newSuperMetadata,
  PARTITION_ATTRIBUTE,
  type SuperMetadata,
} from '../../protocol/fastboot/super/index.js';
import { androidBootImage } from './boot.js';

const MiB = 1024 * 1024;
/** The `--dynamic-partitions` virtual phone's super (virtual-device DEFAULT_SUPER_SIZE). */
export const DEFAULT_SUPER_SIZE = 256 * MiB;
const METADATA_MAX_SIZE = 65536;
const LOGICAL = ['system', 'vendor', 'product'] as const;

export interface MakeAndroidImageOptions {
  readonly product: string;
  /** A.B.C, each 0–127 (the boot image's os_version). */
  readonly version: string;
  readonly outPath: string;
  /** Security patch level YYYY-MM (default 2026-11). */
  readonly patchLevel?: string;
  readonly superSize?: number;
  /** Expanded sizes of the sparse images (multiples of 4096); product 0 = no product.img. */
  readonly systemSize?: number;
  readonly vendorSize?: number;
  readonly productSize?: number;
  readonly bootSize?: number;
  /** Zip64 headers on every entry (Google's fastboot 29 cannot read them; for reader tests). */
  readonly zip64?: boolean;
  /** Deflate the entries (default true, as factory images are). */
  readonly compress?: boolean;
  readonly signal?: AbortSignal;
}

export { androidBootImage };

export interface MadeAndroidImage {
  readonly path: string;
  readonly files: readonly { readonly name: string; readonly size: number }[];
  readonly layout: SuperMetadata;
}

const bad = (message: string) => new FlashlineError('bad_input', message);

/**
 * Each slot's group maximum: 45 % of super, as the `--dynamic-partitions` phone's factory layout has it
 * (virtual-device/super-partition.ts), so both slots fit with room to spare.
 */
export function slotGroupSize(superSize: number): number {
  return Math.max(MiB, Math.floor((superSize * 0.45) / MiB) * MiB);
}

/** The layout of the virtual phone's super: one group per slot, system/vendor/product in each. */
export function virtualPhoneLayout(superSize: number): SuperMetadata {
  const group = slotGroupSize(superSize);
  return newSuperMetadata({
    size: superSize,
    metadataMaxSize: METADATA_MAX_SIZE,
    metadataSlotCount: 2,
    groups: ['a', 'b'].map((s) => ({ name: `main_${s}`, maximumSize: group })),
    partitions: ['a', 'b'].flatMap((s) =>
      LOGICAL.map((n) => ({
        name: `${n}_${s}`,
        group: `main_${s}`,
        size: 0,
        attributes: PARTITION_ATTRIBUTE.readonly,
      })),
    ),
  });
}

/** Deterministic content: `data` bytes of AES-CTR keystream (seeded by name), then zeroes up to `size`. */
async function* content(seed: string, size: number, data: number): AsyncIterable<Buffer> {
  const key = createHash('sha256').update(seed).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  const chunk = 256 * 1024;
  const zero = Buffer.alloc(chunk);
  for (let o = 0; o < size; o += chunk) {
    const n = Math.min(chunk, size - o);
    if (o + n <= data) yield cipher.update(zero.subarray(0, n));
    else if (o >= data) yield zero.subarray(0, n);
    else yield Buffer.concat([cipher.update(zero.subarray(0, data - o)), zero.subarray(0, o + n - data)]);
  }
}

async function sparseImage(seed: string, size: number) {
  const data = Math.min(size, Math.max(4096, Math.floor(size / 8 / 4096) * 4096));
  const layout = await scanRawLayout(content(seed, size, data), { expectedSize: size });
  return encodeSparse(layout, content(seed, size, data));
}

function checkSize(what: string, n: number, min: number): void {
  if (!Number.isSafeInteger(n) || n < min || n % 4096 !== 0)
    throw bad(`${what} ${n} must be a multiple of 4096 bytes, at least ${min}.`);
}

export async function makeAndroidImage(options: MakeAndroidImageOptions): Promise<MadeAndroidImage> {
  if (!/^[a-z0-9][a-z0-9._-]{0,63}$/.test(options.product))
    throw bad(`--product ${options.product} must be a product id (lowercase letters, digits, . _ -).`);
  if (
    !/^\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(options.version) ||
    options.version.split('.').some((x) => Number(x) > 127)
  )
    throw bad(`--version ${options.version} must be A.B.C with each part 0-127 (a boot image's os_version).`);
  const superSize = options.superSize ?? DEFAULT_SUPER_SIZE;
  const sizes = {
    system: options.systemSize ?? 32 * MiB,
    vendor: options.vendorSize ?? 16 * MiB,
    product: options.productSize ?? 0,
  };
  const bootSize = options.bootSize ?? MiB;
  checkSize('--super-size', superSize, 16 * MiB);
  checkSize('--system-size', sizes.system, 4096);
  checkSize('--vendor-size', sizes.vendor, 4096);
  checkSize('--product-size', sizes.product, 0);
  checkSize('--boot-size', bootSize, 3 * 4096);
  const group = slotGroupSize(superSize);
  const need = sizes.system + sizes.vendor + sizes.product;
  if (need > group) {
    throw bad(
      `system, vendor and product need ${need} bytes per slot; each slot's group in a ${superSize}-byte super holds ${group}. Raise --super-size or lower the image sizes.`,
    );
  }
  let boot: Buffer;
  try {
    boot = androidBootImage(options.version, bootSize, options.patchLevel);
  } catch (err) {
    throw bad((err as Error).message);
  }
  const layout = virtualPhoneLayout(superSize);
  const superEmpty = Buffer.from(encodeSuperEmpty(layout));
  const zip = new yazl.ZipFile();
  const mtime = new Date('2026-01-01T00:00:00Z');
  const entry = { mtime, compress: options.compress ?? true, forceZip64Format: options.zip64 ?? false };
  const files: { name: string; size: number }[] = [];
  const add = (name: string, bytes: Buffer) => {
    zip.addBuffer(bytes, name, entry);
    files.push({ name, size: bytes.byteLength });
  };
  add('android-info.txt', Buffer.from(`require board=${options.product}\n`));
  add('boot.img', boot);
  add('super_empty.img', superEmpty);
  for (const name of LOGICAL) {
    const size = sizes[name];
    if (size === 0) continue;
    const img = await sparseImage(`${name}-${options.product}-${options.version}`, size);
    files.push({ name: `${name}.img`, size: img.size });
    zip.addReadStreamLazy(`${name}.img`, { ...entry, size: img.size }, (cb) =>
      cb(null, Readable.from(img.stream)),
    );
  }
  zip.end({ forceZip64Format: options.zip64 ?? false, comment: '' });
  await writeFileAtomic(options.outPath, zip.outputStream as unknown as AsyncIterable<Uint8Array>, {
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { path: options.outPath, files, layout };
}
