import { promises as fs } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { FlashlineError } from '../../common/errors.js';
import {
  type InstallStep,
  loadSigningPrivateKey,
  loadStationPublicKey,
  type PackImageInput,
  packPackage,
  type SigningPrivateKey,
  type StationPublicKey,
} from '../../package/index.js';
import { collect, parseNonNegativeInt, parsePositiveInt } from '../options.js';
import { packFromQualcommDir, type QualcommPackFlags } from './pack-qualcomm.js';

interface ImageArg {
  readonly partition: string;
  readonly file: string;
}

function parseImage(v: string): ImageArg {
  const m = /^([A-Za-z0-9_][A-Za-z0-9_-]{0,62})=(.+)$/.exec(v);
  if (!m) throw new InvalidArgumentError(`'${v}' is not PARTITION=FILE (for example boot=out/boot.img).`);
  return { partition: m[1]!, file: m[2]! };
}

/** The pack description file: the manifest without the computed fields, images naming their files. */
const specSchema = z.strictObject({
  products: z.array(z.string()).min(1),
  version: z.string(),
  rollbackIndex: z.int().min(0),
  expectedVersion: z.string().optional(),
  hardwareRevisions: z.array(z.string()).optional(),
  minBootloaderVersion: z.string().optional(),
  minFlashlineVersion: z.string().optional(),
  expires: z.iso.datetime().optional(),
  expiresInDays: z.int().min(1).max(36500).optional(),
  description: z.string().optional(),
  install: z.array(z.unknown()).optional(),
  images: z
    .array(
      z.strictObject({
        partition: z.string(),
        file: z.string(),
        slotted: z.boolean().optional(),
        sparse: z.boolean().optional(),
      }),
    )
    .min(1),
});

const SPARSE_MAGIC = 0xed26ff3a;

async function isAndroidSparse(file: string): Promise<boolean> {
  const h = await fs.open(file, 'r').catch(() => {
    throw new FlashlineError('bad_input', `Cannot read image file ${file}.`);
  });
  try {
    const b = Buffer.alloc(4);
    const { bytesRead } = await h.read(b, 0, 4, 0);
    return bytesRead === 4 && b.readUInt32LE(0) === SPARSE_MAGIC;
  } finally {
    await h.close();
  }
}

interface PackOpts extends QualcommPackFlags {
  manifest?: string;
  fromAndroidImage?: string;
  fromQualcommDir?: string;
  product: string[];
  version?: string;
  rollbackIndex?: number;
  image: ImageArg[];
  key: string[];
  encryptTo: string[];
  out: string;
  expiresInDays: number;
  expectedVersion?: string;
  blockSize?: number;
}

async function packFromAndroidImage(
  opts: PackOpts,
  input: string,
  keys: SigningPrivateKey[],
  encryptTo: StationPublicKey[],
  created: Date,
): Promise<void> {
  if (opts.manifest || opts.image.length > 0 || opts.product.length > 1) {
    throw new FlashlineError(
      'bad_input',
      '--from-android-image takes its images from the Android image: use it without --manifest and --image, and with at most one --product.',
    );
  }
  // Loaded here: the zip reader and the super codec are only needed by this mode.
  const { packAndroidImage } = await import('../../package/android-image/index.js');
  const { plan, pack } = await packAndroidImage({
    input,
    outPath: opts.out,
    keys,
    encryptTo,
    created,
    expires: new Date(created.getTime() + opts.expiresInDays * 86400_000),
    ...(opts.product[0] !== undefined ? { product: opts.product[0] } : {}),
    ...(opts.version !== undefined ? { version: opts.version } : {}),
    ...(opts.expectedVersion !== undefined ? { expectedVersion: opts.expectedVersion } : {}),
    ...(opts.rollbackIndex !== undefined ? { rollbackIndex: opts.rollbackIndex } : {}),
    ...(opts.blockSize ? { blockSize: opts.blockSize } : {}),
  });
  for (const note of plan.notes) process.stderr.write(`note: ${note}\n`);
  const m = pack.manifest;
  const req = Object.entries(m.deviceRequirements ?? {})
    .map(([k, v]) => `${k}=${v.join('|')}`)
    .join(', ');
  process.stdout.write(
    `wrote ${pack.path} (${pack.bytes} bytes) from ${plan.source}: ${m.products.join(', ')} ${m.version} ` +
      `(device reports ${m.expectedVersion}), rollback index ${m.rollbackIndex}, requires ${req}\n`,
  );
  for (const i of plan.images) {
    process.stdout.write(
      `  ${i.partition.padEnd(16)} ${i.kind.padEnd(12)} ${i.sparse ? 'sparse' : 'raw   '} ${i.slotted ? 'slotted' : 'shared '} ${i.size} bytes${i.sparse ? ` (${i.expandedSize} written)` : ''}  ← ${i.file}\n`,
    );
  }
}

export function registerPack(program: Command): void {
  program
    .command('pack')
    .description('build and sign a package (.flp) from a pack description or from simple flags')
    .option('--manifest <file>', 'pack description JSON (see docs/package-format.md)')
    .option(
      '--from-android-image <zip|dir>',
      'an Android factory/update image (zip with android-info.txt, or its unpacked folder; see docs/android-images.md)',
    )
    .option(
      '--from-qualcomm-dir <dir>',
      'a Qualcomm rescue folder (Firehose programmer, rawprogram*.xml, patch*.xml, images) → a rescue package (docs/edl.md)',
    )
    .option('--programmer <file>', 'qualcomm dir: the programmer file in it (found by name otherwise)')
    .option(
      '--allow-secdata',
      'qualcomm dir: allow secdata / fuse settings (refused by default, as qdl)',
      false,
    )
    .option(
      '--for-msm-hw-id <hex>',
      'qualcomm dir: only for devices with this MSM HW id (repeatable)',
      collect(String),
      [],
    )
    .option(
      '--for-oem-pk-hash <hex>',
      'qualcomm dir: only for devices with this OEM PK hash (repeatable)',
      collect(String),
      [],
    )
    .option(
      '--product <id>',
      'product id (repeatable; simple mode; with --from-android-image: which of its products)',
      collect(String),
      [],
    )
    .option('--version <v>', 'human version string (simple mode; android image: default boot.img os_version)')
    .option(
      '--rollback-index <n>',
      'monotonic rollback index (simple mode; android image: default the security patch level YYYYMM)',
      parseNonNegativeInt,
    )
    .option('--image <partition=file>', 'an image (repeatable; simple mode)', collect(parseImage), [])
    .option('--expected-version <v>', 'version the device reports after the update (default: --version)')
    .option('--expires-in-days <n>', 'validity of the package', parsePositiveInt, 365)
    .option('--key <file>', 'signing private key (repeatable)', collect(String), [])
    .option('--encrypt-to <file>', 'station public key to encrypt for (repeatable)', collect(String), [])
    .option('--block-size <bytes>', 'verification block size', parsePositiveInt)
    .requiredOption('--out <file>', 'package file to write')
    .action(async (opts: PackOpts) => {
      if (opts.key.length === 0)
        throw new FlashlineError('bad_input', 'At least one --key is needed to sign the package.');
      const keys = await Promise.all(opts.key.map(loadSigningPrivateKey));
      const encryptTo = await Promise.all(opts.encryptTo.map(loadStationPublicKey));
      const created = new Date();
      if (opts.fromAndroidImage !== undefined) {
        await packFromAndroidImage(opts, opts.fromAndroidImage, keys, encryptTo, created);
        return;
      }
      if (opts.fromQualcommDir !== undefined) {
        await packFromQualcommDir(opts, opts.fromQualcommDir, keys, encryptTo, created);
        return;
      }
      let base: Omit<Parameters<typeof packPackage>[0], 'outPath' | 'keys' | 'images'>;
      let images: PackImageInput[];
      if (opts.manifest) {
        if (
          opts.product.length > 0 ||
          opts.version ||
          opts.rollbackIndex !== undefined ||
          opts.image.length > 0
        ) {
          throw new FlashlineError(
            'bad_input',
            'Use either --manifest or --product/--version/--rollback-index/--image, not both.',
          );
        }
        let raw: unknown;
        try {
          raw = JSON.parse(await fs.readFile(opts.manifest, 'utf8'));
        } catch (err) {
          throw new FlashlineError(
            'bad_input',
            `Cannot read pack description ${opts.manifest}: ${(err as Error).message}`,
          );
        }
        const r = specSchema.safeParse(raw);
        if (!r.success) {
          const i = r.error.issues[0];
          throw new FlashlineError(
            'bad_input',
            `${opts.manifest}: ${i ? `${i.path.join('.') || '(root)'}: ${i.message}` : 'invalid'}.`,
          );
        }
        const s = r.data;
        const dir = dirname(resolve(opts.manifest));
        images = s.images.map((i) => ({
          partition: i.partition,
          source: resolve(dir, i.file),
          ...(i.slotted !== undefined ? { slotted: i.slotted } : {}),
          ...(i.sparse !== undefined ? { sparse: i.sparse } : {}),
        }));
        const expires = s.expires
          ? new Date(s.expires)
          : new Date(created.getTime() + (s.expiresInDays ?? opts.expiresInDays) * 86400_000);
        base = {
          products: s.products,
          version: s.version,
          rollbackIndex: s.rollbackIndex,
          created,
          expires,
          ...(s.expectedVersion ? { expectedVersion: s.expectedVersion } : {}),
          ...(s.hardwareRevisions ? { hardwareRevisions: s.hardwareRevisions } : {}),
          ...(s.minBootloaderVersion ? { minBootloaderVersion: s.minBootloaderVersion } : {}),
          ...(s.minFlashlineVersion ? { minFlashlineVersion: s.minFlashlineVersion } : {}),
          ...(s.description ? { description: s.description } : {}),
          // Steps are validated with the rest of the manifest by packPackage.
          ...(s.install ? { install: s.install as InstallStep[] } : {}),
        };
      } else {
        if (
          opts.product.length === 0 ||
          !opts.version ||
          opts.rollbackIndex === undefined ||
          opts.image.length === 0
        ) {
          throw new FlashlineError(
            'bad_input',
            'Without --manifest, pack needs --product, --version, --rollback-index and at least one --image PARTITION=FILE.',
          );
        }
        images = [];
        for (const i of opts.image)
          images.push({ partition: i.partition, source: i.file, sparse: await isAndroidSparse(i.file) });
        base = {
          products: opts.product,
          version: opts.version,
          rollbackIndex: opts.rollbackIndex,
          created,
          expires: new Date(created.getTime() + opts.expiresInDays * 86400_000),
          ...(opts.expectedVersion ? { expectedVersion: opts.expectedVersion } : {}),
        };
      }
      for (const i of images) {
        if (typeof i.source === 'string') {
          await fs.access(i.source).catch(() => {
            throw new FlashlineError(
              'bad_input',
              `Image file ${i.source} for ${i.partition} cannot be read.`,
            );
          });
        }
      }
      const result = await packPackage({
        ...base,
        outPath: opts.out,
        keys,
        images,
        ...(encryptTo.length > 0 ? { encryptTo } : {}),
        ...(opts.blockSize ? { blockSize: opts.blockSize } : {}),
      }).catch((err: unknown) => {
        // A manifest the packer refuses is bad input here, not a verification status.
        if (err instanceof FlashlineError && typeof err.code === 'number')
          throw new FlashlineError('bad_input', err.message);
        throw err;
      });
      process.stdout.write(
        `wrote ${result.path} (${result.bytes} bytes): ${result.manifest.products.join(', ')} ${result.manifest.version}, ` +
          `rollback index ${result.manifest.rollbackIndex}, ${result.manifest.images.length} image(s), ` +
          `signed by ${keys.map((k) => k.keyId).join(', ')}${encryptTo.length > 0 ? `, encrypted for ${encryptTo.map((k) => k.keyId).join(', ')}` : ''}\n`,
      );
    });
}
