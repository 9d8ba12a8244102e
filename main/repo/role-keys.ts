/**
 * The repository's role keys (TUF root, targets, snapshot, timestamp): ed25519 through node:crypto, one
 * private key file per role under `<repo>/keys/` (mode 0600). Public keys go into root metadata in TUF's
 * own form (`keytype`/`scheme` "ed25519", `keyval.public` as hex) so any TUF client reads them.
 * The key id is TUF's: SHA-256 of the canonical JSON of the public key.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
} from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import {
  Key,
  type Metadata,
  type Root,
  Signature,
  type Snapshot,
  type Targets,
  type Timestamp,
} from '@tufjs/models';
import { z } from 'zod';
import { writeJsonAtomic } from '../common/atomic-write.js';
import { FlashlineError } from '../common/errors.js';

export const ROLES = ['root', 'targets', 'snapshot', 'timestamp'] as const;
export type RoleName = (typeof ROLES)[number];

export interface RoleKey {
  readonly role: RoleName;
  readonly keyId: string;
  readonly publicHex: string;
  readonly privateKey: KeyObject;
}

const keyFileSchema = z.strictObject({
  type: z.literal('flashline-repository-key'),
  role: z.enum(ROLES),
  keyId: z.string().regex(/^[0-9a-f]{64}$/),
  privateKeyPem: z.string().startsWith('-----BEGIN PRIVATE KEY-----').max(1024),
});

export function keysDir(repoDir: string): string {
  return join(repoDir, 'keys');
}

function keyPath(repoDir: string, role: RoleName): string {
  return join(keysDir(repoDir), `${role}.json`);
}

/** The fixed-shape public key TUF hashes for its key id (keys sorted, no whitespace: canonical JSON). */
export function tufKeyId(publicHex: string): string {
  const canonical = `{"keytype":"ed25519","keyval":{"public":"${publicHex}"},"scheme":"ed25519"}`;
  return createHash('sha256').update(canonical).digest('hex');
}

function publicHexOf(privateKey: KeyObject): string {
  const der = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  // An ed25519 SPKI is a 12-byte header followed by the 32-byte raw key.
  return der.subarray(der.length - 32).toString('hex');
}

export function generateRoleKey(role: RoleName): RoleKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const publicHex = publicHexOf(privateKey);
  return { role, keyId: tufKeyId(publicHex), publicHex, privateKey };
}

export async function saveRoleKey(repoDir: string, key: RoleKey): Promise<void> {
  await writeJsonAtomic(
    keyPath(repoDir, key.role),
    {
      type: 'flashline-repository-key',
      role: key.role,
      keyId: key.keyId,
      privateKeyPem: key.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    },
    { mode: 0o600 },
  );
}

/** Keep a replaced key beside the others (renamed), so an operator can still prove what it signed. */
export async function retireRoleKey(repoDir: string, key: RoleKey): Promise<void> {
  await fs.rename(
    keyPath(repoDir, key.role),
    join(keysDir(repoDir), `${key.role}.${key.keyId.slice(0, 16)}.retired.json`),
  );
}

export async function loadRoleKey(repoDir: string, role: RoleName): Promise<RoleKey> {
  const path = keyPath(repoDir, role);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    throw new FlashlineError(
      'bad_input',
      `Cannot read the ${role} key ${path} (${(err as NodeJS.ErrnoException).code ?? String(err)}). Is ${repoDir} a repository made by 'flashline repo init'?`,
    );
  }
  let parsed: z.infer<typeof keyFileSchema>;
  try {
    parsed = keyFileSchema.parse(JSON.parse(text));
  } catch {
    throw new FlashlineError('bad_input', `${path} is not a Flashline repository key file.`);
  }
  const privateKey = createPrivateKey(parsed.privateKeyPem);
  const publicHex = publicHexOf(privateKey);
  if (tufKeyId(publicHex) !== parsed.keyId) {
    throw new FlashlineError('bad_input', `${path}: the key id does not match the key; restore the file.`);
  }
  return { role, keyId: parsed.keyId, publicHex, privateKey };
}

export function tufKey(key: RoleKey): Key {
  return new Key({
    keyID: key.keyId,
    keyType: 'ed25519',
    scheme: 'ed25519',
    keyVal: { public: key.publicHex },
  });
}

/** Add one signature by `key` to `metadata` (TUF signs the canonical JSON of `signed`). */
export function signWith<T extends Root | Targets | Snapshot | Timestamp>(
  metadata: Metadata<T>,
  key: RoleKey,
): void {
  metadata.sign(
    (data: Buffer) =>
      new Signature({ keyID: key.keyId, sig: sign(null, data, key.privateKey).toString('hex') }),
    true,
  );
}
