/**
 * The station's side: `flashline sync` and the Catalog. TUF metadata is refreshed by tuf-js's Updater
 * (root chain, timestamp → snapshot → targets, versions, expiry, signatures, length limits); packages are
 * then downloaded by our ranged, resumable downloader against the verified target info, verified again as
 * packages (signatures, trust store, decryption) and only then placed atomically in the package cache.
 * Per repository URL the station keeps `<home>/repos/<id>/`: metadata/ (the trusted metadata, root
 * included — "the root is remembered") and partial/ (unfinished downloads, for resume).
 */
import { createHash } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { join } from 'node:path';
import { Metadata, MetadataKind, type TargetFile, type Targets } from '@tufjs/models';
import { Updater } from 'tuf-js';
import { ensureFreeSpace, writeFileAtomic, writeJsonAtomic } from '../common/atomic-write.js';
import { FlashlineError, withContext } from '../common/errors.js';
import { flashlineHome } from '../common/paths.js';
import {
  cacheDir,
  compareVersions,
  importPackage,
  type StationPrivateKey,
  type TrustStore,
} from '../package/index.js';
import { downloadTarget } from './download.js';
import { REPO_CODE, repoRefusal } from './refusals.js';
import { type PackageInfo, packageInfoSchema } from './state.js';

export interface RepoLocation {
  readonly repoUrl: string;
  /** A root.json from the operator; needed the first time only (then the remembered root is used). */
  readonly rootFile?: string;
  readonly home?: string;
}

export interface CatalogEntry {
  /** The target name in the repository (the package file name). */
  readonly name: string;
  readonly length: number;
  readonly sha256: string;
  readonly package: PackageInfo;
  /** True when this package already sits verified in the local cache. */
  readonly cached: boolean;
}

export interface Catalog {
  readonly repoUrl: string;
  readonly entries: readonly CatalogEntry[];
  /** Targets whose custom info is not a Flashline package description (listed, never downloaded). */
  readonly ignored: readonly string[];
  /** When the trusted metadata stops being valid (the earliest of timestamp, snapshot, targets). */
  readonly expires: string;
}

function normalizeUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new FlashlineError('bad_input', `'${url}' is not a URL (for example http://repo.example:8080).`);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') {
    throw new FlashlineError('bad_input', `'${url}': a repository is reached over http or https.`);
  }
  return u.toString().replace(/\/+$/, '');
}

export function repoStateDir(repoUrl: string, home: string = flashlineHome()): string {
  const id = createHash('sha256').update(normalizeUrl(repoUrl)).digest('hex').slice(0, 16);
  return join(home, 'repos', id);
}

/** Install the operator's root the first time; afterwards the remembered (possibly rotated) root wins. */
async function ensureRoot(loc: RepoLocation, metadataDir: string): Promise<boolean> {
  const remembered = join(metadataDir, 'root.json');
  if (await fs.stat(remembered).catch(() => undefined)) return false;
  if (!loc.rootFile) {
    throw new FlashlineError(
      'bad_input',
      `No root of trust for ${loc.repoUrl} on this station yet. Pass --root ROOT.json (the root.json 'flashline repo init' wrote, from the repository operator).`,
    );
  }
  let bytes: Buffer;
  try {
    bytes = await fs.readFile(loc.rootFile);
    if (bytes.length > 512 * 1024) throw new Error('larger than 512 KiB');
    Metadata.fromJSON(MetadataKind.Root, JSON.parse(bytes.toString('utf8')));
  } catch (err) {
    throw new FlashlineError(
      REPO_CODE.malformed,
      `${loc.rootFile} is not a TUF root (${err instanceof Error ? err.message : String(err)}). Ask the repository operator for its root.json.`,
    );
  }
  await writeFileAtomic(remembered, bytes);
  return true;
}

interface Opened {
  readonly url: string;
  readonly dir: string;
  readonly updater: Updater;
}

/** Refresh the metadata; a refusal leaves the station's trusted metadata and its cache as they were. */
async function refresh(loc: RepoLocation): Promise<Opened> {
  const url = normalizeUrl(loc.repoUrl);
  const dir = repoStateDir(url, loc.home);
  const metadataDir = join(dir, 'metadata');
  await fs.mkdir(metadataDir, { recursive: true });
  const firstTime = await ensureRoot({ ...loc, repoUrl: url }, metadataDir);
  try {
    const updater = new Updater({
      metadataDir,
      metadataBaseUrl: url,
      targetBaseUrl: `${url}/targets`,
      config: { fetchRetry: 2, fetchTimeout: 30_000 },
    });
    await updater.refresh();
    await writeJsonAtomic(join(dir, 'source.json'), { repoUrl: url });
    return { url, dir, updater };
  } catch (err) {
    // A root given for a repository that then refuses is not remembered: the next try may pass another.
    if (firstTime) await fs.rm(join(metadataDir, 'root.json'), { force: true });
    throw repoRefusal(url, err);
  }
}

async function isCached(manifestSha256: string, length: number, env: NodeJS.ProcessEnv): Promise<boolean> {
  const st = await fs.stat(join(cacheDir(env), `${manifestSha256}.flp`)).catch(() => undefined);
  return st?.size === length;
}

function envFor(home?: string): NodeJS.ProcessEnv {
  return home ? { ...process.env, FLASHLINE_HOME: home } : process.env;
}

/** The first of timestamp, snapshot and targets to expire: after it this station must sync again. */
async function earliestExpiry(dir: string, targetsExpires: string): Promise<string> {
  let earliest = targetsExpires;
  for (const role of ['timestamp', 'snapshot']) {
    const text = await fs.readFile(join(dir, 'metadata', `${role}.json`), 'utf8');
    const expires = (JSON.parse(text) as { signed?: { expires?: unknown } }).signed?.expires;
    if (typeof expires === 'string' && Date.parse(expires) < Date.parse(earliest)) earliest = expires;
  }
  return earliest;
}

async function readCatalog(opened: Opened, home?: string): Promise<Catalog> {
  // tuf-js persists targets.json only after verifying it, so this file is the trusted targets list.
  const text = await fs.readFile(join(opened.dir, 'metadata', 'targets.json'), 'utf8');
  const targets: Metadata<Targets> = Metadata.fromJSON(MetadataKind.Targets, JSON.parse(text));
  const entries: CatalogEntry[] = [];
  const ignored: string[] = [];
  for (const [name, t] of Object.entries(targets.signed.targets) as [string, TargetFile][]) {
    const info = packageInfoSchema.safeParse((t.custom as { flashline?: unknown }).flashline);
    const sha256 = t.hashes.sha256;
    if (!info.success || !sha256 || !/^[0-9a-f]{64}$/.test(sha256)) {
      ignored.push(name);
      continue;
    }
    entries.push({
      name,
      length: t.length,
      sha256,
      package: info.data,
      cached: await isCached(info.data.manifestSha256, t.length, envFor(home)),
    });
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  return {
    repoUrl: opened.url,
    entries,
    ignored,
    expires: await earliestExpiry(opened.dir, targets.signed.expires),
  };
}

/** Refresh the repository metadata and list its packages (nothing is downloaded). */
export async function fetchCatalog(loc: RepoLocation): Promise<Catalog> {
  return readCatalog(await refresh(loc), loc.home);
}

export interface SyncProgress {
  readonly name: string;
  readonly bytesDone: number;
  readonly bytesTotal: number;
}

export interface SyncOptions extends RepoLocation, EntryFilter {
  readonly trust: TrustStore;
  readonly decryptionKeys?: readonly StationPrivateKey[];
  readonly signal?: AbortSignal;
  readonly onProgress?: (p: SyncProgress) => void;
}

export interface SyncedPackage {
  readonly name: string;
  readonly path: string;
  readonly downloaded: boolean;
  readonly package: PackageInfo;
}

/** Newer first: the higher rollback index, then the higher version. */
function newerFirst(a: CatalogEntry, b: CatalogEntry): number {
  return (
    b.package.rollbackIndex - a.package.rollbackIndex || compareVersions(b.package.version, a.package.version)
  );
}

export interface EntryFilter {
  /** Only packages for these products (default: every package). */
  readonly products?: readonly string[];
  /** Only these target names. */
  readonly names?: readonly string[];
  /** Only the newest package for each of `products` (what a line or auto-flash follows). */
  readonly newest?: boolean;
}

export function selectEntries(catalog: Catalog, filter: EntryFilter): CatalogEntry[] {
  const { products, names } = filter;
  const matching = catalog.entries.filter(
    (e) =>
      (!names || names.length === 0 || names.includes(e.name)) &&
      (!products || products.length === 0 || e.package.products.some((p) => products.includes(p))),
  );
  if (!filter.newest) return matching;
  if (!products || products.length === 0) {
    throw new FlashlineError('bad_input', 'Say which product to follow: --newest goes with --product ID.');
  }
  const picked = new Set<CatalogEntry>();
  for (const product of products) {
    const newest = matching.filter((e) => e.package.products.includes(product)).sort(newerFirst)[0];
    if (!newest) {
      throw new FlashlineError(
        'not_found',
        `${catalog.repoUrl} has no package for product ${product}. Check the product id with 'flashline sync --list'.`,
      );
    }
    picked.add(newest);
  }
  return [...picked];
}

/** Download one catalog entry (resuming a partial one), verify it and place it in the cache. */
async function syncEntry(
  opened: { url: string; dir: string },
  entry: CatalogEntry,
  options: Omit<SyncOptions, 'repoUrl' | 'rootFile' | keyof EntryFilter>,
): Promise<SyncedPackage> {
  const env = envFor(options.home);
  const cachePath = join(cacheDir(env), `${entry.package.manifestSha256}.flp`);
  if (await isCached(entry.package.manifestSha256, entry.length, env)) {
    return { name: entry.name, path: cachePath, downloaded: false, package: entry.package };
  }
  const partPath = join(opened.dir, 'partial', `${entry.sha256}.flp.part`);
  const have = (await fs.stat(partPath).catch(() => undefined))?.size ?? 0;
  await fs.mkdir(cacheDir(env), { recursive: true });
  try {
    // The rest of the download plus the verified copy the cache keeps.
    await ensureFreeSpace(cacheDir(env), Math.max(0, entry.length - have) + entry.length);
  } catch (err) {
    throw new FlashlineError(REPO_CODE.stationStorage, (err as Error).message, { need: entry.length });
  }
  await downloadTarget({
    url: `${opened.url}/targets/${entry.sha256}.${entry.name}`,
    partPath,
    length: entry.length,
    sha256: entry.sha256,
    ...(options.signal ? { signal: options.signal } : {}),
    onBytes: (done) => options.onProgress?.({ name: entry.name, bytesDone: done, bytesTotal: entry.length }),
  });
  try {
    const imported = await importPackage(partPath, {
      trust: options.trust,
      ...(options.decryptionKeys ? { decryptionKeys: options.decryptionKeys } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      dir: cacheDir(env),
    });
    if (imported.manifestSha256 !== entry.package.manifestSha256) {
      throw new FlashlineError(
        REPO_CODE.mismatch,
        `${entry.name}: the package is not the one the repository describes (manifest ${imported.manifestSha256}).`,
      );
    }
    return { name: entry.name, path: imported.path, downloaded: true, package: entry.package };
  } catch (err) {
    throw withContext(`${entry.name} from ${opened.url}`, err);
  } finally {
    await fs.rm(partPath, { force: true });
  }
}

export interface SyncResult {
  readonly catalog: Catalog;
  readonly packages: readonly SyncedPackage[];
}

/** `flashline sync`: refresh, then bring every selected package into the cache. Stops at the first refusal. */
export async function syncRepository(options: SyncOptions): Promise<SyncResult> {
  const opened = await refresh(options);
  const catalog = await readCatalog(opened, options.home);
  const packages: SyncedPackage[] = [];
  for (const entry of selectEntries(catalog, options)) packages.push(await syncEntry(opened, entry, options));
  return { catalog, packages };
}
