/**
 * What the Package screen shows before anything can be flashed: the verification result of an opened
 * package, taken from what the flash service established when it verified (and cached) it — the file is
 * read once.
 */
import type { OpenedPackage } from '../flash/service-api.js';
import { DEMO_TRUST_KEY_PATH } from '../package/demo.js';

/** A signature that verified, as the technician reads it: the key's own comment, and whether it is the demo key. */
export interface SignerView {
  readonly keyId: string;
  /** The trust-store key's comment (who the key belongs to), when it has one. */
  readonly comment?: string;
  /** The shipped demo key (resources/keys/flashline-demo.pub): fine for virtual devices, never for real ones. */
  readonly demo: boolean;
}

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
  /** Key ids of the trusted signatures that verified. */
  readonly signerKeyIds: readonly string[];
  readonly signers: readonly SignerView[];
  readonly encrypted: boolean;
  readonly description?: string;
  readonly images: readonly { partition: string; size: number; slotted: boolean }[];
}

export function packageView(path: string, pkg: OpenedPackage): PackageView {
  return {
    path,
    id: pkg.id,
    sha256: pkg.sha256,
    version: pkg.version,
    expectedVersion: pkg.expectedVersion ?? pkg.version,
    products: pkg.products,
    ...(pkg.hardwareRevisions ? { hardwareRevisions: pkg.hardwareRevisions } : {}),
    ...(pkg.minBootloader ? { minBootloader: pkg.minBootloader } : {}),
    rollbackIndex: pkg.rollbackIndex,
    created: pkg.created,
    expires: pkg.expires,
    signerKeyIds: pkg.signerKeyIds,
    signers: (
      pkg.signers ?? pkg.signerKeyIds.map((keyId) => ({ keyId, source: '', comment: undefined }))
    ).map((s) => ({
      keyId: s.keyId,
      ...(s.comment ? { comment: s.comment } : {}),
      demo: s.source === DEMO_TRUST_KEY_PATH,
    })),
    encrypted: pkg.encrypted,
    ...(pkg.description ? { description: pkg.description } : {}),
    images: pkg.images.map((i) => ({ partition: i.partition, size: i.size, slotted: i.slotted })),
  };
}
