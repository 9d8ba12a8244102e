/**
 * verifyPackage: everything openPackage checks plus every image byte, verified to nowhere exactly as
 * openImage verifies what it releases to a device: every block against the signed block list, hashed in
 * parallel on the worker pool, and the exact size. The whole-image SHA-256 is not recomputed: the block
 * list already proves every byte (docs/package-format.md, "Why the block list is enough").
 */
import { createHash } from 'node:crypto';
import { FlashlineError, toErrorData } from '../common/errors.js';
import { statusInfo } from '../common/status-codes.js';
import { PKG } from './codes.js';
import { ContainerReader } from './container.js';
import { type PackageHead, readHead } from './head.js';
import { checkHead, type OpenPackageOptions } from './head-checks.js';
import { scanImages } from './image-entries.js';
import type { Manifest } from './manifest.js';
import { imageBatches, readBlockList } from './stored-image.js';
import type { SignerInfo } from './trust-store.js';
import { verifyFileRange } from './verified-batches.js';

export interface PackageSummary {
  /** SHA-256 of the signed manifest bytes: a stable identity of the package contents. */
  readonly manifestSha256: string;
  readonly products: readonly string[];
  readonly version: string;
  readonly expectedVersion: string;
  readonly rollbackIndex: number;
  readonly created: string;
  readonly expires: string;
  readonly encrypted: boolean;
  readonly images: readonly {
    partition: string;
    size: number;
    sha256: string;
    slotted: boolean;
    sparse: boolean;
  }[];
  readonly signatures: readonly string[];
  readonly signers?: readonly SignerInfo[];
}

export interface VerifyResult {
  readonly ok: boolean;
  /** 0 when valid, otherwise the verify_failed sub-code (20..29). */
  readonly code: number;
  /** Stable name of the code (e.g. 'bad_signature'). */
  readonly reason: string;
  /** What went wrong, for a technician (the FlashlineError message). */
  readonly detail: string;
  readonly data?: unknown;
  readonly summary?: PackageSummary;
}

export function summarize(
  head: Pick<PackageHead, 'manifest' | 'manifestBytes' | 'signatures' | 'encryption'>,
  signers?: readonly SignerInfo[],
): PackageSummary {
  const m: Manifest = head.manifest;
  return {
    manifestSha256: createHash('sha256').update(head.manifestBytes).digest('hex'),
    products: m.products,
    version: m.version,
    expectedVersion: m.expectedVersion,
    rollbackIndex: m.rollbackIndex,
    created: m.created,
    expires: m.expires,
    encrypted: head.encryption !== undefined,
    images: m.images.map((i) => ({
      partition: i.partition,
      size: i.size,
      sha256: i.sha256,
      slotted: i.slotted,
      sparse: i.sparse,
    })),
    signatures: head.signatures.map((s) => s.keyId),
    ...(signers ? { signers } : {}),
  };
}

export async function verifyPackage(path: string, options: OpenPackageOptions): Promise<VerifyResult> {
  const reader = new ContainerReader(path, options.signal);
  let head: PackageHead | undefined;
  let signers: SignerInfo[] | undefined;
  try {
    head = await readHead(reader);
    const trusted = await checkHead(head, options);
    signers = trusted.signers;
    const where = await scanImages(reader, path, head);
    reader.close();
    for (const img of head.manifest.images) {
      const loc = where.get(img.partition);
      if (!loc) throw new FlashlineError(PKG.malformed, `Package has no image for ${img.partition}.`);
      if (trusted.contentKey) {
        // Encrypted: decrypted on this thread as it streams, hashed on the pool.
        for await (const _ of imageBatches(path, img, loc, trusted.contentKey, options.signal)) void _;
      } else {
        const list = await readBlockList(path, img, loc);
        await verifyFileRange(path, loc.data.offset, img, list, { signal: options.signal });
      }
    }
    return {
      ok: true,
      code: 0,
      reason: 'ok',
      detail: 'Package is valid.',
      summary: summarize(head, signers),
    };
  } catch (err) {
    const data = toErrorData(err);
    const code =
      typeof data.code === 'number' && data.code >= 20 && data.code <= 29 ? data.code : PKG.verifyFailed;
    return {
      ok: false,
      code,
      reason: statusInfo(code).name,
      detail: data.message,
      ...(data.detail !== undefined ? { data: data.detail } : {}),
      ...(head ? { summary: summarize(head, signers) } : {}),
    };
  } finally {
    reader.close();
  }
}

export interface InspectResult {
  readonly manifest: Manifest;
  readonly manifestSha256: string;
  readonly signatures: readonly string[];
  readonly encryptedFor?: readonly string[];
}

/** Read the head without any trust decision (for `flashline inspect`). */
export async function inspectPackage(path: string): Promise<InspectResult> {
  const reader = new ContainerReader(path);
  try {
    const head = await readHead(reader);
    return {
      manifest: head.manifest,
      manifestSha256: createHash('sha256').update(head.manifestBytes).digest('hex'),
      signatures: head.signatures.map((s) => s.keyId),
      ...(head.encryption ? { encryptedFor: head.encryption.recipients.map((r) => r.keyId) } : {}),
    };
  } finally {
    reader.close();
  }
}
