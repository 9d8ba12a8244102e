/**
 * The engine's FlashPackage port over a package verified by main/package. Encrypted packages are opened
 * with the station's keys: images are decrypted block by block while they stream to the device (and
 * checked against the signed hashes), so decrypted bytes never touch the disk.
 */
import { promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import {
  loadStationPrivateKey,
  loadTrustStore,
  openPackage,
  type StationPrivateKey,
  type VerifiedPackage,
} from '../../package/index.js';
import type { FlashPackage, ImageKind } from '../ports.js';

export function flashPackageOf(verified: VerifiedPackage): FlashPackage {
  const m = verified.manifest;
  const erase = (m.install ?? []).flatMap((s) => (s.op === 'erase' ? [s.partition] : []));
  return {
    id: basename(verified.path).replace(/\.flp$/i, ''),
    version: m.version,
    // The signed manifest binds every image by size and hash, so its SHA-256 identifies the contents.
    sha256: verified.manifestSha256,
    rollbackIndex: m.rollbackIndex,
    products: m.products,
    ...(m.hardwareRevisions ? { hardwareRevisions: m.hardwareRevisions } : {}),
    ...(m.minBootloaderVersion ? { minBootloader: m.minBootloaderVersion } : {}),
    expectedVersion: m.expectedVersion,
    images: m.images.map((i) => ({
      partition: i.partition,
      size: i.size,
      sha256: i.sha256,
      slotted: i.slotted,
      sparse: i.sparse,
      ...imageKindOf(i),
    })),
    ...requirementsOf(m),
    ...(erase.length > 0 ? { erase } : {}),
    openImage: (partition, signal) => verified.openImage(partition, { signal }),
  };
}

/**
 * The manifest's image `kind` and `deviceRequirements` (package format 1.1), read defensively: a manifest
 * without them (1.0) is a package of physical partitions with no requirements.
 */
function imageKindOf(image: object): { kind?: ImageKind } {
  const kind: unknown = (image as { kind?: unknown }).kind;
  return kind === 'partition' || kind === 'logical' || kind === 'super-layout' ? { kind } : {};
}

function requirementsOf(manifest: object): { deviceRequirements?: Record<string, string[]> } {
  const given: unknown = (manifest as { deviceRequirements?: unknown }).deviceRequirements;
  if (typeof given !== 'object' || given === null) return {};
  const out: Record<string, string[]> = {};
  for (const [name, values] of Object.entries(given)) {
    if (Array.isArray(values) && values.every((v) => typeof v === 'string')) out[name] = [...values];
  }
  return Object.keys(out).length > 0 ? { deviceRequirements: out } : {};
}

/** The station's decryption keys: every `*.key` in `<home>/station-keys/`, plus key files named by hand. */
export async function loadStationKeys(
  home: string,
  extraFiles: readonly string[] = [],
): Promise<StationPrivateKey[]> {
  const dir = join(home, 'station-keys');
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  const files = [
    ...names
      .filter((n) => n.endsWith('.key'))
      .sort()
      .map((n) => join(dir, n)),
    ...extraFiles,
  ];
  return Promise.all(files.map(loadStationPrivateKey));
}

export interface OpenFlashPackageOptions {
  readonly trustDirs?: readonly string[];
  /** Keys for encrypted packages; one the package is not encrypted for fails 29, naming its recipients. */
  readonly decryptionKeys?: readonly StationPrivateKey[];
  readonly signal?: AbortSignal;
}

/** Open and verify a package file for flashing, with the default trust dirs or the given ones. */
export async function openFlashPackage(
  path: string,
  options: OpenFlashPackageOptions = {},
): Promise<{ pkg: FlashPackage; verified: VerifiedPackage }> {
  const trust = await loadTrustStore(options.trustDirs ? { dirs: options.trustDirs } : {});
  const verified = await openPackage(path, {
    trust,
    ...(options.decryptionKeys ? { decryptionKeys: options.decryptionKeys } : {}),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { pkg: flashPackageOf(verified), verified };
}
