/**
 * What the Package screen shows before anything can be flashed: the verification result of an opened
 * package. The flash service verifies (signature, trust, structure) and caches the package; the head is
 * then read again for the facts the engine does not keep (signer key ids, created/expires).
 */
import { inspectPackage } from '../package/index.js';

export interface PackageView {
  readonly path: string;
  readonly id: string;
  /** SHA-256 of the signed manifest. */
  readonly sha256: string;
  readonly version: string;
  readonly expectedVersion: string;
  readonly products: readonly string[];
  readonly hardwareRevisions?: readonly string[];
  readonly minBootloader?: string;
  readonly rollbackIndex: number;
  readonly created: string;
  readonly expires: string;
  /** Key ids of the signatures in the package (the trusted ones were checked by the flash service). */
  readonly signerKeyIds: readonly string[];
  readonly encrypted: boolean;
  readonly description?: string;
  readonly images: readonly { partition: string; size: number; slotted: boolean }[];
}

export async function packageView(path: string, id: string): Promise<PackageView> {
  const head = await inspectPackage(path);
  const m = head.manifest;
  return {
    path,
    id,
    sha256: head.manifestSha256,
    version: m.version,
    expectedVersion: m.expectedVersion,
    products: m.products,
    ...(m.hardwareRevisions ? { hardwareRevisions: m.hardwareRevisions } : {}),
    ...(m.minBootloaderVersion ? { minBootloader: m.minBootloaderVersion } : {}),
    rollbackIndex: m.rollbackIndex,
    created: m.created,
    expires: m.expires,
    signerKeyIds: head.signatures,
    encrypted: head.encryptedFor !== undefined,
    ...(m.description ? { description: m.description } : {}),
    images: m.images.map((i) => ({ partition: i.partition, size: i.size, slotted: i.slotted })),
  };
}
