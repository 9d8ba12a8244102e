/**
 * This computer's ADB key pair: `<keyDir>/adbkey` (PKCS#8 PEM, as Google's adb writes it, so either tool can
 * use the other's file) and `adbkey.pub` (Android's format, see keys.ts). Created on first use; the private
 * key is 0600 in a 0700 directory; writes are atomic. The public key is always derived from the private
 * key, so a missing or stale `.pub` is rewritten rather than trusted.
 */
import { createPrivateKey, createPublicKey, generateKeyPair, type KeyObject } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { FlashlineError } from '../../common/errors.js';
import { flashlineHome } from '../../common/paths.js';
import { adbKeyFingerprint, formatAdbPublicKey } from './keys.js';

export interface AdbKeyPair {
  readonly privateKey: KeyObject;
  /** The `adbkey.pub` line (base64 struct + ' user@host'). */
  readonly publicKey: string;
  /** MD5 fingerprint as the phone shows it. */
  readonly fingerprint: string;
}

/** Where Flashline keeps its ADB key pair: `<flashline home>/adb`. */
export function defaultAdbKeyDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(flashlineHome(env), 'adb');
}

const cache = new Map<string, Promise<AdbKeyPair>>();

function keyComment(): string {
  let user = 'flashline';
  try {
    user = userInfo().username || user;
  } catch {
    // No passwd entry (containers): keep the default.
  }
  return `${user}@${hostname() || 'localhost'}`;
}

async function readIfExists(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

async function loadOrCreate(dir: string): Promise<AdbKeyPair> {
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const privatePath = join(dir, 'adbkey');
  const publicPath = join(dir, 'adbkey.pub');
  let pem = await readIfExists(privatePath);
  if (pem === null) {
    const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
    pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await writeFileAtomic(privatePath, pem, { mode: 0o600 });
    // Another Flashline process may have created one at the same moment: use whichever landed on disk.
    pem = await fs.readFile(privatePath, 'utf8');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (err) {
    throw new FlashlineError(
      'adb_key_unreadable',
      `${privatePath} is not a PEM private key; move it away and Flashline will create a new one (the phone will ask to allow this computer again)`,
      { path: privatePath },
      { cause: err },
    );
  }
  const existing = await readIfExists(publicPath);
  const existingBlob = existing?.trim().split(/\s+/)[0];
  const comment = existing?.trim().split(/\s+/).slice(1).join(' ') || keyComment();
  const publicKey = formatAdbPublicKey(createPublicKey(privateKey), comment);
  if (existingBlob !== publicKey.split(' ')[0]) await writeFileAtomic(publicPath, publicKey, { mode: 0o644 });
  return { privateKey, publicKey, fingerprint: adbKeyFingerprint(publicKey) };
}

/**
 * The key pair in `keyDir`, created on first use. Concurrent callers in this process share one creation.
 * @throws FlashlineError when the directory cannot be written or the key file is not a key
 */
export function loadAdbKey(keyDir: string): Promise<AdbKeyPair> {
  const dir = resolve(keyDir);
  let pending = cache.get(dir);
  if (!pending) {
    pending = loadOrCreate(dir);
    cache.set(dir, pending);
    // A failure is not cached: the technician may fix the directory and retry.
    pending.catch(() => cache.delete(dir));
  }
  return pending;
}
