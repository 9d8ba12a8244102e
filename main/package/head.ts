/**
 * Reading a package's head from the container: manifest, signatures and the optional encryption header, each
 * bounded before it is parsed. No trust decisions here (head-checks.ts makes them).
 */
import { z } from 'zod';
import { parseBoundedJson } from './canonical-json.js';
import { PKG, pkgError } from './codes.js';
import { type ContainerEntry, type ContainerReader, checkEntry, ENTRY, HEAD_LIMITS } from './container.js';
import { notAPackage } from './container-errors.js';
import { type EncryptionHeader, parseEncryptionHeader } from './encryption.js';
import { MANIFEST_LIMITS, type Manifest, parseManifest } from './manifest.js';
import type { PackageSignature } from './trust-store.js';

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
  if (!first) throw notAPackage('it is empty: there is no manifest');
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
