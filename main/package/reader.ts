/**
 * Opening and verifying a package. The order is fixed so untrusted bytes never steer anything:
 * container structure → bounded manifest → signatures (trust store, threshold) → expiry → product →
 * anti-rollback → decryption key → per-image sizes → image bytes (verified block by block).
 */
import { createHash } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { z } from 'zod';
import { FlashlineError } from '../common/errors.js';
import { FLASHLINE_VERSION } from '../common/version.js';
import { parseBoundedJson } from './canonical-json.js';
import { PKG, pkgError } from './codes.js';
import {
  type ContainerEntry,
  ContainerReader,
  checkEntry,
  checkLayout,
  ENTRY,
  HEAD_LIMITS,
} from './container.js';
import {
  type EncryptionHeader,
  encryptedSize,
  imageKey,
  parseEncryptionHeader,
  unwrapContentKey,
} from './encryption.js';
import { checkBlockList, decryptUnits, units, verifiedBlocks } from './image-stream.js';
import type { StationPrivateKey } from './keys.js';
import {
  compareVersions,
  MANIFEST_LIMITS,
  type Manifest,
  type ManifestImage,
  parseManifest,
} from './manifest.js';
import type { StationRollbackStore } from './rollback-store.js';
import { checkSignatures, type PackageSignature, type SignerInfo, type TrustStore } from './trust-store.js';

export interface OpenPackageOptions {
  readonly trust: TrustStore;
  readonly now?: Date;
  /** The rollback index the device reports; the package must not be below it. */
  readonly deviceRollbackIndex?: number;
  /** The device's product id; must be one of the manifest's products. */
  readonly product?: string;
  readonly hardwareRevision?: string;
  readonly bootloaderVersion?: string;
  readonly stationRollback?: StationRollbackStore;
  /** Station keys for encrypted packages. */
  readonly decryptionKeys?: readonly StationPrivateKey[];
  readonly flashlineVersion?: string;
  readonly signal?: AbortSignal;
}

export interface PackageHead {
  readonly manifest: Manifest;
  readonly manifestBytes: Buffer;
  readonly signatures: readonly PackageSignature[];
  readonly encryption?: EncryptionHeader;
  /** The first entry after the head (the first image's block list), already read from the container. */
  readonly next: ContainerEntry | undefined;
  /** The head entries, for the layout check. */
  readonly entries: readonly ContainerEntry[];
}

const signaturesSchema = z.strictObject({
  signatures: z
    .array(
      z.strictObject({
        keyId: z.string().regex(/^[0-9a-f]{16}$/),
        signature: z
          .string()
          .regex(/^[A-Za-z0-9+/]{86}==$/, '64 bytes in base64')
          .transform((s) => new Uint8Array(Buffer.from(s, 'base64'))),
      }),
    )
    .max(16),
});

/** Read manifest, signatures and the optional encryption header; no trust decisions yet. */
export async function readHead(reader: ContainerReader): Promise<PackageHead> {
  const seen = new Set<string>();
  const first = await reader.next();
  if (!first) throw pkgError(PKG.malformed, 'Package is empty: no manifest.');
  const entries: ContainerEntry[] = [first];
  checkEntry(first.stream.header, ENTRY.manifest, seen);
  const manifestBytes = await reader.readSmall(first, MANIFEST_LIMITS.maxBytes, 'Manifest');
  const manifest = parseManifest(manifestBytes);
  const second = await reader.next();
  if (!second) throw pkgError(PKG.malformed, 'Package has no signatures entry.');
  entries.push(second);
  checkEntry(second.stream.header, ENTRY.signatures, seen);
  const sigValue = parseBoundedJson(
    await reader.readSmall(second, HEAD_LIMITS.signaturesBytes, 'Signatures'),
    'Signatures',
    {
      maxBytes: HEAD_LIMITS.signaturesBytes,
      maxDepth: 4,
    },
  );
  const sigs = signaturesSchema.safeParse(sigValue);
  if (!sigs.success)
    throw pkgError(
      PKG.malformed,
      'Signatures entry is invalid (expected {"signatures": [{keyId, signature}]}).',
    );
  let next = await reader.next();
  let encryption: EncryptionHeader | undefined;
  const firstImage = manifest.images[0];
  if (next) {
    checkEntry(
      next.stream.header,
      [ENTRY.encryption, ...(firstImage ? [ENTRY.blocks(firstImage.partition)] : [])],
      seen,
    );
    if (next.name === ENTRY.encryption) {
      entries.push(next);
      encryption = parseEncryptionHeader(
        await reader.readSmall(next, HEAD_LIMITS.encryptionBytes, 'Encryption header'),
      );
      next = await reader.next();
    } else seen.delete(next.name); // checked again by the image walk
  }
  return {
    manifest,
    manifestBytes,
    signatures: sigs.data.signatures,
    ...(encryption ? { encryption } : {}),
    next,
    entries,
  };
}

export interface TrustedHead {
  readonly signers: SignerInfo[];
  readonly contentKey?: Buffer;
}

/** Every decision that needs only the head. Throws a FlashlineError with the 2x sub-code. */
export async function checkHead(head: PackageHead, options: OpenPackageOptions): Promise<TrustedHead> {
  const { manifest } = head;
  const now = options.now ?? new Date();
  const signers = checkSignatures(options.trust, manifest, head.manifestBytes, head.signatures, now);
  if (now.getTime() > Date.parse(manifest.expires)) {
    throw pkgError(PKG.expired, `Package expired on ${manifest.expires}; refusing a possibly frozen copy.`, {
      expires: manifest.expires,
    });
  }
  const wrong = (msg: string) => pkgError(PKG.wrongProduct, msg, { products: manifest.products });
  if (options.product !== undefined && !manifest.products.includes(options.product)) {
    throw wrong(`Package is for ${manifest.products.join(', ')}, not for product ${options.product}.`);
  }
  if (
    options.hardwareRevision !== undefined &&
    manifest.hardwareRevisions &&
    !manifest.hardwareRevisions.includes(options.hardwareRevision)
  ) {
    throw wrong(
      `Package supports hardware revision(s) ${manifest.hardwareRevisions.join(', ')}, not ${options.hardwareRevision}.`,
    );
  }
  if (
    options.bootloaderVersion !== undefined &&
    manifest.minBootloaderVersion &&
    compareVersions(options.bootloaderVersion, manifest.minBootloaderVersion) < 0
  ) {
    throw wrong(
      `Package needs bootloader ${manifest.minBootloaderVersion} or newer; the device has ${options.bootloaderVersion}.`,
    );
  }
  const ours = options.flashlineVersion ?? FLASHLINE_VERSION;
  if (manifest.minFlashlineVersion && compareVersions(ours, manifest.minFlashlineVersion) < 0) {
    throw wrong(
      `Package needs Flashline ${manifest.minFlashlineVersion} or newer; this is ${ours}. Update Flashline.`,
    );
  }
  if (options.deviceRollbackIndex !== undefined && manifest.rollbackIndex < options.deviceRollbackIndex) {
    throw pkgError(
      PKG.rollbackRefused,
      `Package rollback index ${manifest.rollbackIndex} is below the device's ${options.deviceRollbackIndex}; downgrade refused.`,
      {
        package: manifest.rollbackIndex,
        device: options.deviceRollbackIndex,
      },
    );
  }
  if (options.stationRollback) {
    for (const product of options.product !== undefined ? [options.product] : manifest.products) {
      const highest = await options.stationRollback.highest(product);
      if (manifest.rollbackIndex < highest) {
        throw pkgError(
          PKG.rollbackRefused,
          `Package rollback index ${manifest.rollbackIndex} is below ${highest}, already flashed for ${product} by this station; downgrade refused.`,
          {
            package: manifest.rollbackIndex,
            station: highest,
            product,
          },
        );
      }
    }
  }
  const contentKey = head.encryption
    ? unwrapContentKey(head.encryption, options.decryptionKeys ?? [])
    : undefined;
  return { signers, ...(contentKey ? { contentKey } : {}) };
}

/** Expected stored sizes of an image's two entries; a mismatch is refused before reading a byte. */
export function checkImageEntry(
  img: ManifestImage,
  entry: ContainerEntry,
  kind: 'blocks' | 'image',
  encrypted: boolean,
): void {
  const want =
    kind === 'blocks'
      ? Math.ceil(img.size / img.blockSize) * 32
      : encrypted
        ? encryptedSize(img.size, img.blockSize)
        : img.size;
  if (entry.size !== want) {
    throw pkgError(
      PKG.imageMismatch,
      `Image ${img.partition}: ${kind === 'blocks' ? 'block list' : 'data'} is ${entry.size} bytes in the package, the signed manifest allows exactly ${want}.`,
      {
        partition: img.partition,
        stored: entry.size,
        expected: want,
      },
    );
  }
}

interface ImageLocation {
  readonly blocks: { offset: number; size: number };
  readonly data: { offset: number; size: number };
}

export interface VerifiedPackage {
  readonly path: string;
  readonly manifest: Manifest;
  /** SHA-256 of the signed manifest bytes: a stable identity of the package contents. */
  readonly manifestSha256: string;
  readonly signers: readonly SignerInfo[];
  readonly encrypted: boolean;
  readonly images: readonly ManifestImage[];
  /** Verified bytes of one image; may be called repeatedly (re-reads the file each time). */
  openImage(partition: string, options?: { signal?: AbortSignal }): Readable;
  close(): Promise<void>;
}

/**
 * Open and verify a package's head and structure. Images are verified as they are read through openImage.
 * The whole container is scanned once (without hashing) so a stray entry anywhere is refused up front.
 */
export async function openPackage(path: string, options: OpenPackageOptions): Promise<VerifiedPackage> {
  const reader = new ContainerReader(path, options.signal);
  let head: PackageHead;
  let trusted: TrustedHead;
  const where = new Map<string, ImageLocation>();
  try {
    head = await readHead(reader);
    trusted = await checkHead(head, options);
    const seen = new Set<string>([
      ENTRY.manifest,
      ENTRY.signatures,
      ...(head.encryption ? [ENTRY.encryption] : []),
    ]);
    const all = [...head.entries];
    let entry = head.next;
    for (const img of head.manifest.images) {
      const blocks = await expectEntry(entry, ENTRY.blocks(img.partition), seen);
      all.push(blocks);
      checkImageEntry(img, blocks, 'blocks', head.encryption !== undefined);
      // The signed list hash is checked now (streamed, so the list is never held here) and again by openImage.
      const listHash = createHash('sha256');
      await reader.drain(blocks, (c) => listHash.update(c));
      if (listHash.digest('hex') !== img.blocksSha256) {
        throw pkgError(
          PKG.imageMismatch,
          `Image ${img.partition}: block list hash is wrong; it does not match the signed manifest.`,
          {
            partition: img.partition,
          },
        );
      }
      const data = await expectEntry(await reader.next(), ENTRY.image(img.partition), seen);
      all.push(data);
      checkImageEntry(img, data, 'image', head.encryption !== undefined);
      await reader.drain(data);
      where.set(img.partition, {
        blocks: { offset: blocks.offset, size: blocks.size },
        data: { offset: data.offset, size: data.size },
      });
      entry = await reader.next();
    }
    if (entry) checkEntry(entry.stream.header, undefined, seen);
    await checkLayout(path, all);
  } finally {
    reader.close();
  }
  const { manifest } = head;
  const manifestSha256 = createHash('sha256').update(head.manifestBytes).digest('hex');
  const contentKey = trusted.contentKey;
  return {
    path,
    manifest,
    manifestSha256,
    signers: trusted.signers,
    encrypted: head.encryption !== undefined,
    images: manifest.images,
    openImage(partition, opts = {}) {
      const img = manifest.images.find((i) => i.partition === partition);
      const loc = where.get(partition);
      if (!img || !loc)
        throw new FlashlineError('not_found', `Package has no image for partition ${partition}.`);
      return Readable.from(imageBlocks(path, img, loc, contentKey, opts.signal), {
        objectMode: false,
        highWaterMark: 1,
      });
    },
    async close() {},
  };
}

async function expectEntry(
  entry: ContainerEntry | undefined,
  name: string,
  seen: Set<string>,
): Promise<ContainerEntry> {
  if (!entry) throw pkgError(PKG.malformed, `Package ends early: entry ${name} is missing.`);
  checkEntry(entry.stream.header, name, seen);
  return entry;
}

async function* imageBlocks(
  path: string,
  img: ManifestImage,
  loc: ImageLocation,
  contentKey: Buffer | undefined,
  signal: AbortSignal | undefined,
): AsyncGenerator<Buffer> {
  if (loc.blocks.offset < 0 || loc.data.offset < 0)
    throw pkgError(PKG.malformed, 'Package entry offsets are unknown.');
  const handle = await fs.open(path, 'r');
  let list: Buffer;
  try {
    list = Buffer.alloc(loc.blocks.size);
    const { bytesRead } = await handle.read(list, 0, loc.blocks.size, loc.blocks.offset);
    if (bytesRead !== loc.blocks.size)
      throw pkgError(PKG.imageMismatch, `Image ${img.partition}: block list is truncated.`);
  } finally {
    await handle.close();
  }
  checkBlockList(img, list);
  if (img.size === 0 && !contentKey) return yield* verifiedBlocks(noBlocks(), img, list);
  const unit = contentKey ? img.blockSize + 16 : img.blockSize;
  const raw = createReadStream(path, {
    start: loc.data.offset,
    end: loc.data.offset + loc.data.size - 1,
    highWaterMark: Math.max(unit, 1024 * 1024),
    ...(signal ? { signal } : {}),
  });
  const source = (async function* () {
    let got = 0;
    for await (const c of raw as AsyncIterable<Buffer>) {
      got += c.byteLength;
      yield c;
    }
    if (got !== loc.data.size)
      throw pkgError(PKG.imageMismatch, `Image ${img.partition} is truncated in the package file.`);
  })();
  const blocks = contentKey
    ? decryptUnits(source, img, imageKey(contentKey, img.partition))
    : units(source, img.blockSize);
  yield* verifiedBlocks(blocks, img, list);
}

async function* noBlocks(): AsyncGenerator<Buffer> {}
