/**
 * The operator's side of the update repository: a static directory laid out the way TUF lays it out, so
 * any web server, object store or CDN can serve `<repo>/public/` as it is.
 *   public/N.root.json          every root version (stations walk the chain when keys rotate)
 *   public/N.targets.json       consistent snapshots: a published file is never rewritten
 *   public/N.snapshot.json
 *   public/timestamp.json       the one mutable file, written last and atomically
 *   public/targets/<sha256>.<name>.flp   packages exactly as packed (still encrypted)
 * The repository signs each package's length and SHA-256 plus what its verified manifest says (products,
 * version, rollback index) as TUF custom target info.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, promises as fs } from 'node:fs';
import { basename, join } from 'node:path';
import { Metadata, MetaFile, Root, Snapshot, TargetFile, Targets, Timestamp } from '@tufjs/models';
import { writeFileAtomic } from '../common/atomic-write.js';
import { FlashlineError } from '../common/errors.js';
import { type TrustStore, verifyPackage } from '../package/index.js';
import {
  generateRoleKey,
  loadRoleKey,
  ROLES,
  type RoleKey,
  type RoleName,
  retireRoleKey,
  saveRoleKey,
  signWith,
  tufKey,
} from './role-keys.js';
import {
  newState,
  type PackageInfo,
  publicDir,
  type RepoState,
  readState,
  shippedRootPath,
  statePath,
  writeState,
} from './state.js';

/** TUF's timestamp format: UTC, whole seconds. */
function expiresAt(now: Date, seconds: number): string {
  return new Date(now.getTime() + seconds * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

const serialize = (md: Metadata<Root | Targets | Snapshot | Timestamp>) => `${JSON.stringify(md.toJSON())}\n`;

async function loadKeys(repoDir: string): Promise<Record<RoleName, RoleKey>> {
  const keys = await Promise.all(ROLES.map((r) => loadRoleKey(repoDir, r)));
  return Object.fromEntries(keys.map((k) => [k.role, k])) as Record<RoleName, RoleKey>;
}

/** Write root version `version` listing `keys`, signed by every key in `signers`. */
async function writeRoot(
  repoDir: string,
  state: RepoState,
  keys: Record<RoleName, RoleKey>,
  signers: readonly RoleKey[],
  now: Date,
): Promise<void> {
  const version = state.versions.root + 1;
  const root = new Root({
    version,
    specVersion: '1.0.31',
    expires: expiresAt(now, state.expirySeconds.root),
    consistentSnapshot: true,
  });
  for (const role of ROLES) root.addKey(tufKey(keys[role]), role);
  const md = new Metadata(root);
  for (const k of signers) signWith(md, k);
  const text = serialize(md);
  await writeFileAtomic(join(publicDir(repoDir), `${version}.root.json`), text);
  await writeFileAtomic(shippedRootPath(repoDir), text);
  state.versions.root = version;
}

export interface PublishOptions {
  /** Clock for the expiry dates (tests publish metadata that is already expired). */
  readonly now?: Date;
  readonly expirySeconds?: Partial<RepoState['expirySeconds']>;
}

export interface PublishResult {
  readonly targets: number;
  readonly snapshot: number;
  readonly timestamp: number;
  readonly packages: number;
}

/** Sign new targets, snapshot and timestamp versions; timestamp.json is replaced last, atomically. */
export async function publish(repoDir: string, options: PublishOptions = {}): Promise<PublishResult> {
  const state = await readState(repoDir);
  return publishState(repoDir, state, await loadKeys(repoDir), options);
}

async function publishState(
  repoDir: string,
  state: RepoState,
  keys: Record<RoleName, RoleKey>,
  options: PublishOptions,
): Promise<PublishResult> {
  const now = options.now ?? new Date();
  const expiry = { ...state.expirySeconds, ...options.expirySeconds };
  const pub = publicDir(repoDir);
  const v = {
    targets: state.versions.targets + 1,
    snapshot: state.versions.snapshot + 1,
    timestamp: state.versions.timestamp + 1,
  };
  const targets = new Targets({
    version: v.targets,
    specVersion: '1.0.31',
    expires: expiresAt(now, expiry.targets),
  });
  for (const [path, t] of Object.entries(state.targets)) {
    targets.addTarget(
      new TargetFile({
        path,
        length: t.length,
        hashes: { sha256: t.sha256 },
        unrecognizedFields: { custom: { flashline: { ...t.package } } },
      }),
    );
  }
  const targetsMd = new Metadata(targets);
  signWith(targetsMd, keys.targets);
  const targetsText = serialize(targetsMd);
  await writeFileAtomic(join(pub, `${v.targets}.targets.json`), targetsText);

  const snapshot = new Snapshot({
    version: v.snapshot,
    specVersion: '1.0.31',
    expires: expiresAt(now, expiry.snapshot),
    meta: { 'targets.json': new MetaFile({ version: v.targets, length: Buffer.byteLength(targetsText) }) },
  });
  const snapshotMd = new Metadata(snapshot);
  signWith(snapshotMd, keys.snapshot);
  const snapshotText = serialize(snapshotMd);
  await writeFileAtomic(join(pub, `${v.snapshot}.snapshot.json`), snapshotText);

  const timestamp = new Timestamp({
    version: v.timestamp,
    specVersion: '1.0.31',
    expires: expiresAt(now, expiry.timestamp),
    snapshotMeta: new MetaFile({ version: v.snapshot, length: Buffer.byteLength(snapshotText) }),
  });
  const timestampMd = new Metadata(timestamp);
  signWith(timestampMd, keys.timestamp);
  await writeFileAtomic(join(pub, 'timestamp.json'), serialize(timestampMd));

  state.versions = { ...state.versions, ...v };
  state.dirty = false;
  await writeState(repoDir, state);
  return { ...v, packages: Object.keys(state.targets).length };
}

/** Create a repository: four role keys, root version 1 (also written to <repo>/root.json), a first publish. */
export async function initRepository(repoDir: string, options: PublishOptions = {}): Promise<PublishResult> {
  const exists = await fs.stat(statePath(repoDir)).catch(() => undefined);
  if (exists) {
    throw new FlashlineError(
      'bad_input',
      `${repoDir} already holds a repository; use 'flashline repo publish'.`,
    );
  }
  await fs.mkdir(join(publicDir(repoDir), 'targets'), { recursive: true });
  const keys = Object.fromEntries(ROLES.map((r) => [r, generateRoleKey(r)])) as Record<RoleName, RoleKey>;
  for (const r of ROLES) await saveRoleKey(repoDir, keys[r]);
  const state = newState();
  await writeRoot(repoDir, state, keys, [keys.root], options.now ?? new Date());
  return publishState(repoDir, state, keys, options);
}

/** A target path is a plain file name: it becomes part of a URL and of a file name on every mirror. */
function targetName(pkgPath: string): string {
  const name = basename(pkgPath);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\.flp$/.test(name)) {
    throw new FlashlineError(
      'bad_input',
      `${name}: a package file name for the repository must end in .flp and use only letters, digits, '.', '_' and '-'. Rename the file.`,
    );
  }
  return name;
}

export interface AddResult {
  readonly path: string;
  readonly length: number;
  readonly sha256: string;
  readonly package: PackageInfo;
}

/**
 * Copy a package into the repository and stage it for the next publish. The copy is checked, not the
 * source, so what is signed is exactly what was verified: its signatures against `trust`, its expiry and
 * format. An encrypted package stays encrypted — the repository never holds station keys, so "cannot
 * decrypt here" (29) is the expected answer for one, after its signatures have passed.
 */
export async function addPackage(repoDir: string, pkgPath: string, trust: TrustStore): Promise<AddResult> {
  const state = await readState(repoDir);
  const name = targetName(pkgPath);
  const targetsDir = join(publicDir(repoDir), 'targets');
  const incoming = join(targetsDir, `.incoming-${randomBytes(6).toString('hex')}.flp`);
  const hash = createHash('sha256');
  let length = 0;
  try {
    const { size } = await fs.stat(pkgPath).catch(() => {
      throw new FlashlineError('bad_input', `Cannot read ${pkgPath}: no such file.`);
    });
    await writeFileAtomic(
      incoming,
      (async function* () {
        for await (const chunk of createReadStream(pkgPath, { highWaterMark: 4 * 1024 * 1024 })) {
          hash.update(chunk as Buffer);
          length += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      })(),
      { expectedSize: size },
    );
    const result = await verifyPackage(incoming, { trust });
    const signaturesPassed = result.ok || (result.code === 29 && result.summary?.encrypted === true);
    if (!signaturesPassed || !result.summary) {
      throw new FlashlineError(result.code, `${pkgPath} was not added: ${result.detail}`, result.data);
    }
    const sha256 = hash.digest('hex');
    const s = result.summary;
    const info: PackageInfo = {
      products: [...s.products],
      version: s.version,
      rollbackIndex: s.rollbackIndex,
      manifestSha256: s.manifestSha256,
      encrypted: s.encrypted,
    };
    await fs.rename(incoming, join(targetsDir, `${sha256}.${name}`));
    state.targets[name] = { length, sha256, package: info };
    state.dirty = true;
    await writeState(repoDir, state);
    return { path: name, length, sha256, package: info };
  } finally {
    await fs.rm(incoming, { force: true });
  }
}

/**
 * Replace one role's key: root version N+1 lists the new key, signed by the old root key and (when the
 * root key itself rotates) the new one, so a station holding root N can walk to N+1. Then everything is
 * re-signed with a fresh publish. The old private key is kept as keys/<role>.<id>.retired.json.
 */
export async function rotateKey(
  repoDir: string,
  role: RoleName,
  options: PublishOptions = {},
): Promise<{ keyId: string; rootVersion: number }> {
  const state = await readState(repoDir);
  const keys = await loadKeys(repoDir);
  const old = keys[role];
  const fresh = generateRoleKey(role);
  const next = { ...keys, [role]: fresh };
  const signers = role === 'root' ? [old, fresh] : [keys.root];
  await retireRoleKey(repoDir, old);
  await saveRoleKey(repoDir, fresh);
  await writeRoot(repoDir, state, next, signers, options.now ?? new Date());
  await publishState(repoDir, state, next, options);
  return { keyId: fresh.keyId, rootVersion: state.versions.root };
}
