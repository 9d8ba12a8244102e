/**
 * The trust store: public signing keys with scope (products), validity window and revocation, read from the
 * shipped directory (resources/keys) and the station's own directory (flashlineHome()/trust).
 * Layout of a trust directory: `*.pub` signing public keys (from `flashline keygen`), optional `revoked.json`
 * `{"revoked": ["<keyId>", …]}` and optional `trust.json` `{"threshold": N}`.
 */
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { FlashlineError } from '../common/errors.js';
import { flashlineHome, resourcesDir } from '../common/paths.js';
import { parseBoundedJson } from './canonical-json.js';
import { PKG, pkgError } from './codes.js';
import { KEY_TYPES, parseSigningPublicKey, type SigningPublicKey, verifyManifestSignature } from './keys.js';
import type { Manifest } from './manifest.js';

export interface TrustedKey extends SigningPublicKey {
  /** The file the key came from. */
  readonly source: string;
}

export interface TrustStore {
  readonly keys: ReadonlyMap<string, TrustedKey>;
  readonly revoked: ReadonlySet<string>;
  /** How many distinct trusted, valid, in-scope signatures a package needs (at least 1). */
  readonly threshold: number;
}

export function defaultTrustDirs(env: NodeJS.ProcessEnv = process.env): string[] {
  return [join(resourcesDir, 'keys'), join(flashlineHome(env), 'trust')];
}

const revokedSchema = z.strictObject({ revoked: z.array(z.string().regex(/^[0-9a-f]{16}$/)).max(10000) });
const trustConfigSchema = z.strictObject({ threshold: z.int().min(1).max(16) });

function trustError(path: string, why: string): FlashlineError {
  return pkgError(PKG.verifyFailed, `Trust store file ${path} is invalid: ${why} Fix or remove it.`);
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw trustError(path, `cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)}).`);
  }
  let v: unknown;
  try {
    v = parseBoundedJson(bytes, 'file', { maxBytes: 1024 * 1024, maxDepth: 4 });
  } catch (err) {
    throw trustError(path, err instanceof Error ? err.message : String(err));
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw trustError(path, 'not a JSON object.');
  return v as Record<string, unknown>;
}

export async function loadTrustStore(
  options: { dirs?: readonly string[]; threshold?: number } = {},
): Promise<TrustStore> {
  const keys = new Map<string, TrustedKey>();
  const revoked = new Set<string>();
  let threshold = options.threshold ?? 1;
  for (const dir of options.dirs ?? defaultTrustDirs()) {
    let names: string[];
    try {
      names = (await fs.readdir(dir)).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw pkgError(
        PKG.verifyFailed,
        `Cannot read trust directory ${dir} (${(err as NodeJS.ErrnoException).code}).`,
      );
    }
    for (const name of names.filter((n) => n.endsWith('.pub'))) {
      const path = join(dir, name);
      const v = await readJson(path);
      // Station (encryption) public keys may sit beside signing keys; they never authorize anything.
      if (!v || v.type === KEY_TYPES.stationPublic) continue;
      let key: SigningPublicKey;
      try {
        key = parseSigningPublicKey(path, v);
      } catch (err) {
        throw trustError(path, err instanceof Error ? err.message : String(err));
      }
      // The first directory wins: a user directory cannot widen the scope of a shipped key.
      if (!keys.has(key.keyId)) keys.set(key.keyId, { ...key, source: path });
    }
    const rev = await readJson(join(dir, 'revoked.json'));
    if (rev) {
      const r = revokedSchema.safeParse(rev);
      if (!r.success)
        throw trustError(join(dir, 'revoked.json'), 'expected {"revoked": ["<16 hex key id>", …]}.');
      for (const k of r.data.revoked) revoked.add(k);
    }
    const cfg = await readJson(join(dir, 'trust.json'));
    if (cfg) {
      const r = trustConfigSchema.safeParse(cfg);
      if (!r.success) throw trustError(join(dir, 'trust.json'), 'expected {"threshold": 1..16}.');
      // Any directory may raise the threshold; none may lower it.
      threshold = Math.max(threshold, r.data.threshold);
    }
  }
  return { keys, revoked, threshold };
}

export interface PackageSignature {
  readonly keyId: string;
  readonly signature: Uint8Array;
}

export interface SignerInfo {
  readonly keyId: string;
  readonly source: string;
  readonly comment?: string;
}

function inScope(key: TrustedKey, products: readonly string[]): boolean {
  return key.products.includes('*') || products.every((p) => key.products.includes(p));
}

/**
 * Count the signatures that authorize this manifest. A signature claiming a trusted key that does not verify
 * is refused outright (the manifest was altered); unknown, revoked, out-of-scope or out-of-date keys simply
 * do not count, and the most telling reason is reported when the threshold is not met.
 */
export function checkSignatures(
  store: TrustStore,
  manifest: Manifest,
  manifestBytes: Uint8Array,
  signatures: readonly PackageSignature[],
  now: Date,
): SignerInfo[] {
  const good: SignerInfo[] = [];
  const rejected: { keyId: string; why: string }[] = [];
  let sawRevoked = false;
  const seen = new Set<string>();
  for (const sig of signatures) {
    if (seen.has(sig.keyId)) continue; // one key counts once towards the threshold
    seen.add(sig.keyId);
    const key = store.keys.get(sig.keyId);
    if (!key) {
      rejected.push({ keyId: sig.keyId, why: 'not in the trust store' });
      continue;
    }
    if (!verifyManifestSignature(key.publicKey, sig.signature, manifestBytes)) {
      throw pkgError(
        PKG.badSignature,
        `Signature by key ${sig.keyId} does not match the manifest: the package was altered after signing.`,
        { keyId: sig.keyId },
      );
    }
    if (store.revoked.has(sig.keyId)) {
      sawRevoked = true;
      rejected.push({ keyId: sig.keyId, why: 'revoked' });
      continue;
    }
    if (key.notBefore && now.getTime() < Date.parse(key.notBefore)) {
      rejected.push({ keyId: sig.keyId, why: `not valid before ${key.notBefore}` });
      continue;
    }
    if (key.notAfter && now.getTime() > Date.parse(key.notAfter)) {
      rejected.push({ keyId: sig.keyId, why: `expired on ${key.notAfter}` });
      continue;
    }
    if (!inScope(key, manifest.products)) {
      rejected.push({ keyId: sig.keyId, why: `not allowed for product(s) ${manifest.products.join(', ')}` });
      continue;
    }
    good.push({ keyId: key.keyId, source: key.source, ...(key.comment ? { comment: key.comment } : {}) });
  }
  if (good.length >= store.threshold) return good;
  const reasons = rejected.map((r) => `${r.keyId} ${r.why}`).join('; ') || 'the package has no signatures';
  if (sawRevoked) {
    throw pkgError(PKG.revokedKey, `Package is signed with a revoked key (${reasons}).`, { rejected });
  }
  throw pkgError(
    PKG.untrustedSigner,
    `Package has ${good.length} of ${store.threshold} required trusted signature(s): ${reasons}.`,
    { rejected, threshold: store.threshold },
  );
}
