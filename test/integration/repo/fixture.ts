/**
 * A repository with one signed, encrypted package, served by `repo serve`'s own server on loopback, and a
 * station home holding the station key and the publisher's trust entry. Hostile mirrors are built on the
 * same served directory by wrapping sirv (the real static handler) with the misbehaviour under test.
 */
import { randomBytes } from 'node:crypto';
import { promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sirv from 'sirv';
import {
  generateKeyPair,
  loadSigningPrivateKey,
  loadStationPrivateKey,
  loadStationPublicKey,
  loadTrustStore,
  packPackage,
  type StationPrivateKey,
  type TrustStore,
  writeKeyPair,
} from '../../../main/package/index.js';
import { addPackage, initRepository, publish } from '../../../main/repo/repository.js';
import { type RepoServer, serveRepository } from '../../../main/repo/serve.js';
import { publicDir, shippedRootPath } from '../../../main/repo/state.js';

export const PRODUCT = 'phone-x';

export interface RepoFixture {
  readonly dir: string;
  readonly repoDir: string;
  readonly rootFile: string;
  readonly trustDir: string;
  readonly trust: TrustStore;
  readonly stationKey: StationPrivateKey;
  readonly packagePath: string;
  /** The package's file in the served directory (public/targets/<sha256>.<name>). */
  targetFile(): Promise<string>;
  /** Pack another phone-x package (same signer, encrypted to the station) as `phone-x-VERSION.flp`. */
  packVersion(version: string, rollbackIndex: number): Promise<string>;
  /** A fresh station home (station key installed). */
  newHome(): Promise<string>;
  cleanup(): Promise<void>;
}

export async function makeRepoFixture(options: { imageBytes?: number } = {}): Promise<RepoFixture> {
  const dir = await fs.mkdtemp(join(tmpdir(), 'flashline-repo-'));
  const trustDir = join(dir, 'trust');
  await fs.mkdir(trustDir);
  const signer = await writeKeyPair(join(dir, 'signer'), generateKeyPair({ products: [PRODUCT] }));
  await fs.copyFile(signer.pub, join(trustDir, 'signer.pub'));
  const station = await writeKeyPair(join(dir, 'station'), generateKeyPair({ kind: 'station' }));
  const image = join(dir, 'boot.img');
  await fs.writeFile(image, randomBytes(options.imageBytes ?? 1_500_000));
  const packVersion = async (version: string, rollbackIndex: number) => {
    const outPath = join(dir, `phone-x-${version}.flp`);
    await packPackage({
      outPath,
      products: [PRODUCT],
      version,
      rollbackIndex,
      images: [{ partition: 'boot', source: image }],
      keys: [await loadSigningPrivateKey(signer.key)],
      encryptTo: [await loadStationPublicKey(station.pub)],
    });
    return outPath;
  };
  const packagePath = await packVersion('1.0', 1);
  const trust = await loadTrustStore({ dirs: [trustDir] });
  const repoDir = join(dir, 'repo');
  await initRepository(repoDir);
  await addPackage(repoDir, packagePath, trust);
  await publish(repoDir);
  let homes = 0;
  return {
    dir,
    repoDir,
    rootFile: shippedRootPath(repoDir),
    trustDir,
    trust,
    stationKey: await loadStationPrivateKey(station.key),
    packagePath,
    packVersion,
    async targetFile() {
      const names = await fs.readdir(join(publicDir(repoDir), 'targets'));
      const name = names.find((n) => n.endsWith('.phone-x-1.0.flp'));
      if (!name) throw new Error('target file missing');
      return join(publicDir(repoDir), 'targets', name);
    },
    async newHome() {
      const home = join(dir, `home-${++homes}`);
      await fs.mkdir(join(home, 'station-keys'), { recursive: true });
      await fs.copyFile(station.key, join(home, 'station-keys', 'station.key'));
      return home;
    },
    cleanup: () => fs.rm(dir, { recursive: true, force: true }),
  };
}

export { type RepoServer, serveRepository };

/** Every file in a directory tree (relative paths), to prove a refused sync wrote nothing. */
export async function filesUnder(dir: string): Promise<string[]> {
  const entries = await fs.readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

export type Misbehaviour = (req: IncomingMessage, res: ServerResponse, serve: () => void) => void;

/** A mirror of `repoDir`'s public directory whose answers pass through `misbehave`. */
export async function hostileMirror(repoDir: string, misbehave: Misbehaviour): Promise<RepoServer> {
  const files = sirv(publicDir(repoDir), { dev: true });
  const server: Server = createServer((req, res) =>
    misbehave(req, res, () =>
      files(req, res, () => {
        res.statusCode = 404;
        res.end();
      }),
    ),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
