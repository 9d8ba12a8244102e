/**
 * Opening and verifying a package. The order is fixed so untrusted bytes never steer anything:
 * container structure → bounded manifest → signatures (trust store, threshold) → expiry → product →
 * anti-rollback → decryption key → per-image sizes → image bytes (verified block by block).
 * The steps live in head.ts (read the head), head-checks.ts (decide on it), image-entries.ts (walk the
 * image entries) and stored-image.ts (verified image bytes); this file puts them in that order.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { FlashlineError } from '../common/errors.js';
import { PKG, pkgError } from './codes.js';
import { ContainerReader } from './container.js';
import { type PackageHead, readHead } from './head.js';
import { checkHead, type OpenPackageOptions, type TrustedHead } from './head-checks.js';
import { type ImageLocation, scanImages } from './image-entries.js';
import { type Manifest, type ManifestImage, type PackageKind, packageKind } from './manifest.js';
import { imageBlocks } from './stored-image.js';
import type { SignerInfo } from './trust-store.js';

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
  let where: Map<string, ImageLocation>;
  try {
    head = await readHead(reader);
    trusted = await checkHead(head, options);
    checkKind(head.manifest, options.kind ?? 'firmware');
    where = await scanImages(reader, path, head);
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

const KIND_WORDS: Record<PackageKind, string> = {
  firmware: "a firmware package, flashed with 'flashline flash'",
  'qualcomm-rescue': "a rescue package for a device in Qualcomm EDL, used with 'flashline rescue'",
};

/** A rescue package never reaches the fastboot engine, nor a firmware package the rescue (27). */
function checkKind(manifest: Manifest, wanted: PackageKind | 'any'): void {
  const kind = packageKind(manifest);
  if (wanted === 'any' || kind === wanted) return;
  throw pkgError(PKG.wrongProduct, `This is ${KIND_WORDS[kind]}; here ${KIND_WORDS[wanted]} is needed.`, {
    kind,
    wanted,
  });
}
