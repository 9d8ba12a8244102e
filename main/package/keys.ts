/**
 * Key files. Signing keys are ed25519 (@noble/ed25519); station keys, used only to receive encrypted
 * packages, are X25519 (@noble/curves) — separate key types so one secret never serves two purposes.
 * Files are small JSON documents; the key id is derived from the public key, so a file cannot claim
 * another key's id.
 */
import { createHash, randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { x25519 } from '@noble/curves/ed25519.js';
import * as ed from '@noble/ed25519';
import { z } from 'zod';
import { writeFileAtomic } from '../common/atomic-write.js';
import { FlashlineError } from '../common/errors.js';
import { parseBoundedJson } from './canonical-json.js';

// Native SHA-512 for noble's synchronous API (it ships no hash of its own).
ed.hashes.sha512 = (m: Uint8Array) => new Uint8Array(createHash('sha512').update(m).digest());

export const KEY_TYPES = {
  signingPrivate: 'flashline-signing-key',
  signingPublic: 'flashline-signing-public-key',
  stationPrivate: 'flashline-station-key',
  stationPublic: 'flashline-station-public-key',
} as const;

const b64key = z
  .string()
  .regex(/^[A-Za-z0-9+/]{43}=$/, '32 bytes in base64')
  .transform((s) => new Uint8Array(Buffer.from(s, 'base64')));
const keyIdSchema = z.string().regex(/^[0-9a-f]{16}$/, '16 hex digits');
const time = z.iso.datetime({ offset: false });

export const signingPublicKeySchema = z.strictObject({
  type: z.literal(KEY_TYPES.signingPublic),
  algorithm: z.literal('ed25519'),
  keyId: keyIdSchema,
  publicKey: b64key,
  /** Product ids this key may authorize; "*" means any product. */
  products: z
    .array(z.string().regex(/^(\*|[a-z0-9][a-z0-9._-]{0,63})$/))
    .min(1)
    .max(256),
  notBefore: time.optional(),
  notAfter: time.optional(),
  comment: z.string().max(512).optional(),
});
const signingPrivateKeySchema = z.strictObject({
  type: z.literal(KEY_TYPES.signingPrivate),
  algorithm: z.literal('ed25519'),
  keyId: keyIdSchema,
  privateKey: b64key,
  comment: z.string().max(512).optional(),
});
const stationPublicKeySchema = z.strictObject({
  type: z.literal(KEY_TYPES.stationPublic),
  algorithm: z.literal('x25519'),
  keyId: keyIdSchema,
  publicKey: b64key,
  comment: z.string().max(512).optional(),
});
const stationPrivateKeySchema = z.strictObject({
  type: z.literal(KEY_TYPES.stationPrivate),
  algorithm: z.literal('x25519'),
  keyId: keyIdSchema,
  privateKey: b64key,
  comment: z.string().max(512).optional(),
});

export type SigningPublicKey = z.infer<typeof signingPublicKeySchema>;
export type SigningPrivateKey = z.infer<typeof signingPrivateKeySchema>;
export type StationPublicKey = z.infer<typeof stationPublicKeySchema>;
export type StationPrivateKey = z.infer<typeof stationPrivateKeySchema>;
export type KeyKind = 'signing' | 'station';

export function keyIdOf(algorithm: 'ed25519' | 'x25519', publicKey: Uint8Array): string {
  return createHash('sha256').update(`${algorithm}:`).update(publicKey).digest('hex').slice(0, 16);
}

/** The bytes a package signature covers: a domain prefix, then the canonical manifest bytes. */
export function signedMessage(manifestBytes: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from('flashline-package-manifest-v1\0', 'utf8'), manifestBytes]);
}

export function signManifest(key: SigningPrivateKey, manifestBytes: Uint8Array): Uint8Array {
  return ed.sign(signedMessage(manifestBytes), key.privateKey);
}

export function verifyManifestSignature(
  publicKey: Uint8Array,
  signature: Uint8Array,
  manifestBytes: Uint8Array,
): boolean {
  try {
    // RFC 8032 strict verification: no malleable or small-order edge cases accepted.
    return ed.verify(signature, signedMessage(manifestBytes), publicKey, { zip215: false });
  } catch {
    return false;
  }
}

export interface GeneratedKeyPair {
  readonly kind: KeyKind;
  readonly keyId: string;
  /** JSON text of the private key file. */
  readonly privateFile: string;
  /** JSON text of the public key file. */
  readonly publicFile: string;
}

export interface KeygenOptions {
  readonly kind?: KeyKind;
  /** Scope written into a signing key's public file (trust entry); default ["*"]. */
  readonly products?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly comment?: string;
}

const toB64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const toJson = (v: unknown) => `${JSON.stringify(v, null, 2)}\n`;

export function generateKeyPair(options: KeygenOptions = {}): GeneratedKeyPair {
  const kind = options.kind ?? 'signing';
  const comment = options.comment === undefined ? {} : { comment: options.comment };
  if (kind === 'station') {
    const sk = new Uint8Array(randomBytes(32));
    const pk = x25519.getPublicKey(sk);
    const keyId = keyIdOf('x25519', pk);
    const common = { algorithm: 'x25519', keyId };
    return {
      kind,
      keyId,
      privateFile: toJson({ type: KEY_TYPES.stationPrivate, ...common, privateKey: toB64(sk), ...comment }),
      publicFile: toJson({ type: KEY_TYPES.stationPublic, ...common, publicKey: toB64(pk), ...comment }),
    };
  }
  const sk = new Uint8Array(randomBytes(32));
  const pk = ed.getPublicKey(sk);
  const keyId = keyIdOf('ed25519', pk);
  const pub = signingPublicKeySchema.parse({
    type: KEY_TYPES.signingPublic,
    algorithm: 'ed25519',
    keyId,
    publicKey: toB64(pk),
    products: options.products && options.products.length > 0 ? [...options.products] : ['*'],
    ...(options.notBefore ? { notBefore: options.notBefore.toISOString() } : {}),
    ...(options.notAfter ? { notAfter: options.notAfter.toISOString() } : {}),
    ...comment,
  });
  return {
    kind,
    keyId,
    privateFile: toJson({
      type: KEY_TYPES.signingPrivate,
      algorithm: 'ed25519',
      keyId,
      privateKey: toB64(sk),
      ...comment,
    }),
    publicFile: toJson({ ...pub, publicKey: toB64(pub.publicKey) }),
  };
}

/** Write NAME.key (mode 0600) and NAME.pub atomically. */
export async function writeKeyPair(
  base: string,
  pair: GeneratedKeyPair,
): Promise<{ key: string; pub: string }> {
  const key = `${base}.key`;
  const pub = `${base}.pub`;
  await writeFileAtomic(key, pair.privateFile, { mode: 0o600 });
  await writeFileAtomic(pub, pair.publicFile, { mode: 0o644 });
  return { key, pub };
}

function keyFileError(path: string, why: string): FlashlineError {
  return new FlashlineError('bad_key_file', `${path}: ${why}`);
}

async function readKeyJson(path: string): Promise<Record<string, unknown>> {
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(path);
  } catch (err) {
    throw keyFileError(path, `cannot read key file (${(err as NodeJS.ErrnoException).code ?? String(err)}).`);
  }
  let value: unknown;
  try {
    value = parseBoundedJson(bytes, 'key file', { maxBytes: 16 * 1024, maxDepth: 3 });
  } catch (err) {
    throw keyFileError(path, err instanceof Error ? err.message : String(err));
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw keyFileError(path, 'not a Flashline key file.');
  }
  return value as Record<string, unknown>;
}

function parseKey<T extends { keyId: string }>(
  path: string,
  value: Record<string, unknown>,
  schema: z.ZodType<T>,
  publicOf: (k: T) => { algorithm: 'ed25519' | 'x25519'; pk: Uint8Array },
): T {
  const r = schema.safeParse(value);
  if (!r.success) {
    const i = r.error.issues[0];
    throw keyFileError(
      path,
      `invalid key file (${i ? `${i.path.join('.') || 'type'}: ${i.message}` : 'schema'}).`,
    );
  }
  const { algorithm, pk } = publicOf(r.data);
  if (keyIdOf(algorithm, pk) !== r.data.keyId) throw keyFileError(path, 'key id does not match the key.');
  return r.data;
}

const expect = (path: string, value: Record<string, unknown>, type: string, hint: string) => {
  if (value.type !== type)
    throw keyFileError(path, `expected a ${hint} (type ${type}), found type ${String(value.type)}.`);
};

export async function loadSigningPrivateKey(path: string): Promise<SigningPrivateKey> {
  const v = await readKeyJson(path);
  expect(path, v, KEY_TYPES.signingPrivate, "signing private key (from 'flashline keygen')");
  return parseKey(path, v, signingPrivateKeySchema, (k) => ({
    algorithm: 'ed25519',
    pk: ed.getPublicKey(k.privateKey),
  }));
}

export function parseSigningPublicKey(path: string, value: Record<string, unknown>): SigningPublicKey {
  expect(path, value, KEY_TYPES.signingPublic, 'signing public key');
  return parseKey(path, value, signingPublicKeySchema, (k) => ({ algorithm: 'ed25519', pk: k.publicKey }));
}

export async function loadSigningPublicKey(path: string): Promise<SigningPublicKey> {
  return parseSigningPublicKey(path, await readKeyJson(path));
}

export async function loadStationPublicKey(path: string): Promise<StationPublicKey> {
  const v = await readKeyJson(path);
  expect(path, v, KEY_TYPES.stationPublic, "station public key (from 'flashline keygen --type station')");
  return parseKey(path, v, stationPublicKeySchema, (k) => ({ algorithm: 'x25519', pk: k.publicKey }));
}

export async function loadStationPrivateKey(path: string): Promise<StationPrivateKey> {
  const v = await readKeyJson(path);
  expect(path, v, KEY_TYPES.stationPrivate, "station private key (from 'flashline keygen --type station')");
  return parseKey(path, v, stationPrivateKeySchema, (k) => ({
    algorithm: 'x25519',
    pk: x25519.getPublicKey(k.privateKey),
  }));
}

export async function readKeyFileType(path: string): Promise<unknown> {
  return (await readKeyJson(path)).type;
}
