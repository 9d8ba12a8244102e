/**
 * Builds the USB test VM's initramfs: busybox, the USB kernel modules, the host's `node` and `fastboot`
 * binaries with the shared libraries `ldd` lists (kept at their host paths, so RUNPATHs and the loader path
 * still hold), the `usb` package with its prebuilt native binary, and the test programs bundled by esbuild.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, realpath, rename, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { type CpioEntry, writeCpioGz } from './cpio.js';
import type { VmAssets } from './debian-assets.js';
import { resolveModules } from './modules.js';

const run = promisify(execFile);

export const projectRoot = fileURLToPath(new URL('../../', import.meta.url));

export interface InitramfsOptions {
  assets: VmAssets;
  /** Where build products go (module copies, bundles, the archive). */
  workDir: string;
  /** Entry points to bundle, keyed by the output name under /app (e.g. `vm-main` → /app/vm-main.mjs). */
  programs: Record<string, string>;
  /** The shell command line /init runs inside /app. */
  command: string;
  /** Extra host binaries to include with their libraries (e.g. fastboot), by absolute path. */
  hostBinaries?: readonly string[];
}

/** Shared libraries a dynamically linked binary needs, as `ldd` resolves them on this host. */
async function sharedLibraries(binary: string): Promise<string[]> {
  const { stdout } = await run('ldd', [binary]);
  const libs: string[] = [];
  for (const line of stdout.split('\n')) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m?.[1]) libs.push(m[1]);
  }
  return libs;
}

class Tree {
  private readonly dirs = new Set<string>(['/']);
  readonly entries: CpioEntry[] = [];

  dir(path: string): void {
    if (this.dirs.has(path)) return;
    this.dir(dirname(path));
    this.dirs.add(path);
    this.entries.push({ kind: 'dir', path });
  }
  file(path: string, source: string, mode?: number): void {
    this.dir(dirname(path));
    this.entries.push(
      mode === undefined ? { kind: 'file', path, source } : { kind: 'file', path, source, mode },
    );
  }
  data(path: string, data: string | Uint8Array, mode = 0o644): void {
    this.dir(dirname(path));
    this.entries.push({
      kind: 'data',
      path,
      data: typeof data === 'string' ? Buffer.from(data) : data,
      mode,
    });
  }
  symlink(path: string, target: string): void {
    this.dir(dirname(path));
    this.entries.push({ kind: 'symlink', path, target });
  }
}

async function addDirRecursive(tree: Tree, hostDir: string, vmDir: string): Promise<void> {
  for (const ent of await readdir(hostDir, { withFileTypes: true })) {
    const h = join(hostDir, ent.name);
    const v = join(vmDir, ent.name);
    if (ent.isDirectory()) await addDirRecursive(tree, h, v);
    else if (ent.isFile()) tree.file(v, h);
  }
}

/** Adds a host binary at its real path, a symlink at the PATH name, and every library at its ldd path. */
async function addHostBinary(tree: Tree, seen: Set<string>, binary: string): Promise<void> {
  const real = await realpath(binary);
  tree.file(real, real, 0o755);
  if (real !== binary) tree.symlink(binary, real);
  for (const lib of await sharedLibraries(real)) {
    if (seen.has(lib)) continue;
    seen.add(lib);
    tree.file(lib, await realpath(lib), 0o755);
  }
}

export async function buildInitramfs(opts: InitramfsOptions): Promise<string> {
  const { assets, workDir } = opts;
  await rm(join(workDir, 'app'), { recursive: true, force: true });
  await mkdir(workDir, { recursive: true });
  const tree = new Tree();
  for (const d of [
    '/bin',
    '/usr/bin',
    '/proc',
    '/sys',
    '/dev',
    '/tmp',
    '/root',
    '/run',
    '/etc/usb-vm',
    '/app',
  ]) {
    tree.dir(d);
  }
  tree.file('/bin/busybox', assets.busybox, 0o755);
  tree.file('/init', join(projectRoot, 'scripts/usb-vm/init.sh'), 0o755);

  const modules = await resolveModules(assets.modulesDir, join(workDir, 'modules'));
  for (const m of modules) tree.file(`/lib/modules/${m.name}.ko`, m.path, 0o644);
  tree.data('/etc/usb-vm/modules', `${modules.map((m) => m.name).join('\n')}\n`);
  tree.data('/etc/usb-vm/cmd', `${opts.command}\n`);
  tree.data('/etc/passwd', 'root:x:0:0:root:/root:/bin/sh\n');

  const seenLibs = new Set<string>();
  await addHostBinary(tree, seenLibs, process.execPath);
  if (process.execPath !== '/usr/bin/node') tree.symlink('/usr/bin/node', process.execPath);
  for (const b of opts.hostBinaries ?? []) await addHostBinary(tree, seenLibs, b);

  // The native binary of `usb` is loaded by its own CommonJS loader, so it stays a real node_modules tree.
  const nm = join(projectRoot, 'node_modules');
  for (const pkg of ['usb', '@node-usb/usb-linux-x64-gnu']) {
    const dir = join(nm, pkg);
    if (!existsSync(dir)) throw new Error(`usb-vm: ${dir} is missing; run npm ci`);
    await addDirRecursive(tree, dir, `/app/node_modules/${pkg}`);
  }
  for (const lib of await sharedLibraries(join(nm, '@node-usb/usb-linux-x64-gnu/usb.linux-x64-gnu.node'))) {
    if (!seenLibs.has(lib)) {
      seenLibs.add(lib);
      tree.file(lib, await realpath(lib), 0o755);
    }
  }

  // Bundles resolve projectRoot to `/` (they live in /app), so the project's resources/ (trust keys, the demo
  // signing key, usb-ids.json) go to /resources and its package.json to /.
  const resources = join(projectRoot, 'resources');
  if (existsSync(resources)) await addDirRecursive(tree, resources, '/resources');
  tree.file('/package.json', join(projectRoot, 'package.json'), 0o644); // main/common/version.ts reads it

  const appDir = join(workDir, 'app');
  await build({
    entryPoints: Object.fromEntries(Object.entries(opts.programs).map(([k, v]) => [k, join(projectRoot, v)])),
    outdir: appDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    // vite only serves the station's UI in development; the CLI bundle (/app/flashline.mjs) never loads it.
    external: ['usb', 'vite'],
    // Bundled CommonJS dependencies call require(); give ESM output one.
    banner: {
      js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);",
    },
    logLevel: 'warning',
  });
  for (const f of await readdir(appDir)) tree.file(`/app/${f}`, join(appDir, f), 0o644);
  tree.data('/app/package.json', '{"type":"module"}\n');

  const out = join(workDir, 'initramfs.cpio.gz');
  await writeCpioGz(tree.entries, `${out}.tmp`);
  await rm(out, { force: true });
  await rename(`${out}.tmp`, out);
  return out;
}
