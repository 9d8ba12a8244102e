/**
 * The package manifest: the one document that is signed. Its schema is strict (unknown fields are refused,
 * because a field the reader ignores could never be enforced), and its bytes must already be canonical so the
 * signed bytes and the parsed meaning cannot diverge.
 */
import { z } from 'zod';
import { canonicalJson, parseBoundedJson } from './canonical-json.js';
import { PKG, pkgError } from './codes.js';
import { checkRescueSection, rescueFileName, rescueSectionSchema } from './rescue-manifest.js';

export const FORMAT_NAME = 'flashline-package';
export const FORMAT_MAJOR = 1;
/**
 * 1.1 added image `kind` and `deviceRequirements`; 1.2 added `rescue` and image `file` (rescue packages).
 * Minor versions add optional fields only: every 1.0 and 1.1 manifest is a valid 1.2 one.
 */
export const FORMAT_MINOR = 2;
export const FORMAT_VERSION = `${FORMAT_MAJOR}.${FORMAT_MINOR}`;

export const MANIFEST_LIMITS = { maxBytes: 256 * 1024, maxDepth: 6 } as const;
export const MAX_IMAGES = 64;
/**
 * An image's `blockSize`: the unit each block hash (and, encrypted, each AEAD chunk) covers. Not the
 * device's block size (the sparse codec's DEFAULT_SPARSE_BLOCK_SIZE, 4 KiB).
 */
export const DEFAULT_HASH_BLOCK_SIZE = 1024 * 1024;
export const MIN_HASH_BLOCK_SIZE = 4096;
export const MAX_HASH_BLOCK_SIZE = 16 * 1024 * 1024;
/** 2^53-1 bytes is far beyond any storage; the bound keeps arithmetic exact. */
const MAX_IMAGE_SIZE = Number.MAX_SAFE_INTEGER;

const id = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'lowercase letters, digits, . _ - (max 64)');
const label = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x20-\x7e]+$/, 'printable ASCII');
const partition = z.string().regex(/^[A-Za-z0-9_][A-Za-z0-9_-]{0,62}$/, 'letters, digits, _ and - (max 63)');
/** A fastboot variable name (`product`, `version-bootloader`, `version-baseband`, …). */
const fastbootVariable = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9._-]{0,63}$/,
    'a fastboot variable name: lowercase letters, digits, . _ - (max 64)',
  );
const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, '64 lowercase hex digits');
const isoTime = z.iso.datetime({ offset: false });
const dotted = z
  .string()
  .regex(/^\d{1,9}(\.\d{1,9}){0,5}([-+][0-9A-Za-z.-]{1,64})?$/, 'a dotted version like 1.2.3');

export const IMAGE_KINDS = ['partition', 'logical', 'super-layout'] as const;
export type ImageKind = (typeof IMAGE_KINDS)[number];

export const manifestImageSchema = z.strictObject({
  partition,
  size: z.int().min(0).max(MAX_IMAGE_SIZE),
  sha256: sha256Hex,
  /** Size of the verification blocks; the reader releases bytes one verified block at a time. */
  blockSize: z.int().min(MIN_HASH_BLOCK_SIZE).max(MAX_HASH_BLOCK_SIZE),
  /** SHA-256 of the block hash list entry (32 bytes per block, in order). */
  blocksSha256: sha256Hex,
  slotted: z.boolean(),
  sparse: z.boolean(),
  /**
   * `partition` (the default when absent): a physical partition, flashed from the bootloader.
   * `logical`: a logical partition inside super, flashed in fastbootd (`slotted` as usual: system → system_b).
   * `super-layout`: a `super_empty.img` (at most one per package, never slotted), sent with
   * `update-super <super-partition-name>`.
   */
  kind: z.enum(IMAGE_KINDS).optional(),
  /** Rescue packages (1.2): the image's file name in the vendor folder, as rawprogram*.xml names it. */
  file: rescueFileName.optional(),
});

export const installStepSchema = z.discriminatedUnion('op', [
  z.strictObject({ op: z.literal('flash'), partition }),
  z.strictObject({ op: z.literal('erase'), partition }),
  z.strictObject({ op: z.literal('set_active'), slot: z.enum(['a', 'b', 'other']) }),
]);

export const manifestSchema = z
  .strictObject({
    format: z.literal(FORMAT_NAME),
    formatVersion: z.string().regex(/^\d{1,4}\.\d{1,4}$/),
    products: z.array(id).min(1).max(64),
    hardwareRevisions: z.array(label).min(1).max(64).optional(),
    minBootloaderVersion: dotted.optional(),
    version: label,
    rollbackIndex: z.int().min(0).max(Number.MAX_SAFE_INTEGER),
    created: isoTime,
    expires: isoTime,
    minFlashlineVersion: dotted.optional(),
    images: z.array(manifestImageSchema).min(1).max(MAX_IMAGES),
    install: z.array(installStepSchema).max(256).optional(),
    expectedVersion: label,
    description: z.string().max(4096).optional(),
    /**
     * Fastboot variables the device must report one of the listed values for (android-info.txt `require`
     * lines): `product`, `version-bootloader`, `version-baseband`, … A value may end in `*` (prefix match).
     */
    deviceRequirements: z.record(fastbootVariable, z.array(label).min(1).max(64)).optional(),
    /** 1.2: this is a rescue package for a device in Qualcomm EDL (rescue-manifest.ts). */
    rescue: rescueSectionSchema.optional(),
  })
  .superRefine((m, ctx) => {
    const names = new Set<string>();
    for (const img of m.images) {
      if (names.has(img.partition))
        ctx.addIssue({ code: 'custom', message: `duplicate image ${img.partition}` });
      names.add(img.partition);
    }
    for (const step of m.install ?? []) {
      if (step.op === 'flash' && !names.has(step.partition)) {
        ctx.addIssue({
          code: 'custom',
          message: `install step flashes ${step.partition}, which is not an image`,
        });
      }
    }
    const layouts = m.images.filter((i) => i.kind === 'super-layout');
    if (layouts.length > 1) {
      ctx.addIssue({
        code: 'custom',
        message: `at most one super-layout image is allowed, found ${layouts.map((i) => i.partition).join(', ')}`,
      });
    }
    for (const img of layouts) {
      if (img.slotted)
        ctx.addIssue({ code: 'custom', message: `super-layout image ${img.partition} cannot be slotted` });
    }
    const logical = m.images.filter((i) => i.kind === 'logical');
    if (logical.length > 0 && layouts.length === 0) {
      ctx.addIssue({
        code: 'custom',
        message: `logical image ${logical[0]!.partition} needs a super-layout image in the same package`,
      });
    }
    if (m.deviceRequirements && Object.keys(m.deviceRequirements).length > 32)
      ctx.addIssue({ code: 'custom', message: 'at most 32 device requirements' });
    if (Date.parse(m.expires) <= Date.parse(m.created)) {
      ctx.addIssue({ code: 'custom', message: 'expires must be after created' });
    }
    if (new Set(m.products).size !== m.products.length)
      ctx.addIssue({ code: 'custom', message: 'duplicate product' });
    checkRescueSection(m.rescue, m.images, m.install !== undefined, (message) =>
      ctx.addIssue({ code: 'custom', message }),
    );
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestImage = z.infer<typeof manifestImageSchema>;
export type InstallStep = z.infer<typeof installStepSchema>;

/** What a package is for: firmware flashed over fastboot, or a rescue of a device in Qualcomm EDL. */
export type PackageKind = 'firmware' | 'qualcomm-rescue';

export function packageKind(m: Pick<Manifest, 'rescue'>): PackageKind {
  return m.rescue ? 'qualcomm-rescue' : 'firmware';
}

/** An image's kind, `partition` when the manifest leaves it out. */
export function imageKind(img: Pick<ManifestImage, 'kind'>): ImageKind {
  return img.kind ?? 'partition';
}

function zodSummary(err: z.ZodError): string {
  return err.issues
    .slice(0, 3)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}

/** Validate a manifest object (used by the packer before signing). */
export function validateManifest(value: unknown): Manifest {
  // zod drops an own `__proto__` key of a record silently; a key that is not enforced must be refused.
  const req = (value as { deviceRequirements?: unknown } | null)?.deviceRequirements;
  if (typeof req === 'object' && req !== null && Object.hasOwn(req, '__proto__')) {
    throw pkgError(
      PKG.malformed,
      'Manifest is invalid: deviceRequirements: __proto__ is not a fastboot variable.',
    );
  }
  const r = manifestSchema.safeParse(value);
  if (!r.success) throw pkgError(PKG.malformed, `Manifest is invalid: ${zodSummary(r.error)}.`);
  return r.data;
}

/** Parse the signed manifest bytes: bounded, canonical, a known major format version, schema-valid. */
export function parseManifest(bytes: Uint8Array): Manifest {
  const value = parseBoundedJson(bytes, 'Manifest', MANIFEST_LIMITS);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw pkgError(PKG.malformed, 'Manifest is not a JSON object.');
  }
  const fv = (value as Record<string, unknown>).formatVersion;
  if (typeof fv === 'string' && /^\d+\.\d+$/.test(fv)) {
    const major = Number(fv.split('.')[0]);
    if (major > FORMAT_MAJOR) {
      throw pkgError(
        PKG.malformed,
        `Package format ${fv} is newer than this Flashline understands (${FORMAT_VERSION}). Update Flashline.`,
        { formatVersion: fv },
      );
    }
  }
  const manifest = validateManifest(value);
  if (canonicalJson(value) !== Buffer.from(bytes).toString('utf8')) {
    throw pkgError(PKG.malformed, 'Manifest is not in canonical form (sorted keys, no whitespace).');
  }
  return manifest;
}

export function manifestBytes(manifest: Manifest): Buffer {
  return Buffer.from(canonicalJson(manifest), 'utf8');
}

/** Number of verification blocks of an image (an empty image has none). */
export function blockCount(img: Pick<ManifestImage, 'size' | 'blockSize'>): number {
  return Math.ceil(img.size / img.blockSize);
}

/** Compare dotted numeric versions ("1.10.2" > "1.9"); a pre-release/build suffix is ignored. */
export function compareVersions(a: string, b: string): number {
  const pa = a
    .split(/[-+]/)[0]!
    .split('.')
    .map((x) => Number(x) || 0);
  const pb = b
    .split(/[-+]/)[0]!
    .split('.')
    .map((x) => Number(x) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d < 0 ? -1 : 1;
  }
  return 0;
}
