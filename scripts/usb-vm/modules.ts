/**
 * Picks the kernel modules the USB VM needs, in an order where each module's dependencies load first.
 *
 * Debian's kernel .deb ships no modules.dep (depmod runs at install time), so dependencies are read from each
 * module's own `.modinfo` section (`depends=a,b`), which is what depmod itself uses. Compressed modules
 * (.ko.xz / .ko.zst, as newer Debian kernels ship them) are decompressed at build time because busybox insmod
 * cannot read them.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The modules the harness needs; their dependencies are added automatically. */
export const WANTED_MODULES = ['configfs', 'libcomposite', 'dummy_hcd', 'usb_f_fs'] as const;

export interface ModuleFile {
  name: string;
  /** An uncompressed .ko on the host, ready to archive. */
  path: string;
}

const norm = (name: string): string => name.replace(/-/g, '_');

function modinfoDepends(ko: Buffer): string[] {
  const marker = Buffer.from('\0depends=');
  const at = ko.indexOf(marker);
  if (at < 0) return [];
  const start = at + marker.length;
  const end = ko.indexOf(0, start);
  const list = ko.subarray(start, end < 0 ? start : end).toString('ascii');
  return list.split(',').filter((s) => s.length > 0);
}

async function loadModule(modulesDir: string, rel: string, outDir: string): Promise<Buffer> {
  const base = join(modulesDir, rel.replace(/\.ko(\.\w+)?$/, '.ko'));
  if (existsSync(base)) return readFile(base);
  for (const [ext, tool] of [
    ['.xz', 'xz'],
    ['.zst', 'zstd'],
  ] as const) {
    if (!existsSync(base + ext)) continue;
    try {
      const r = await run(tool, ['-dc', base + ext], { encoding: 'buffer', maxBuffer: 64 * 1024 * 1024 });
      await mkdir(outDir, { recursive: true });
      return r.stdout;
    } catch (err) {
      throw new Error(
        `usb-vm: ${base + ext} is compressed and \`${tool} -dc\` failed (${(err as Error).message}); ` +
          `install ${tool === 'xz' ? 'xz-utils' : 'zstd'}`,
      );
    }
  }
  throw new Error(`usb-vm: module file for ${rel} not found under ${modulesDir}`);
}

/** Resolves WANTED_MODULES and their dependencies to uncompressed files in load order. */
export async function resolveModules(
  modulesDir: string,
  outDir: string,
  wanted: readonly string[] = WANTED_MODULES,
): Promise<ModuleFile[]> {
  const order = (await readFile(join(modulesDir, 'modules.order'), 'utf8')).split('\n').filter(Boolean);
  const byName = new Map<string, string>();
  for (const rel of order) byName.set(norm(basename(rel).replace(/\.ko(\.\w+)?$/, '')), rel);

  const result: ModuleFile[] = [];
  const done = new Set<string>();
  const visiting = new Set<string>();
  const visit = async (name: string): Promise<void> => {
    const key = norm(name);
    if (done.has(key)) return;
    if (visiting.has(key)) throw new Error(`usb-vm: module dependency cycle at ${name}`);
    visiting.add(key);
    const rel = byName.get(key);
    if (!rel) throw new Error(`usb-vm: kernel module ${name} is not in ${modulesDir}/modules.order`);
    const ko = await loadModule(modulesDir, rel, outDir);
    for (const dep of modinfoDepends(ko)) await visit(dep);
    await mkdir(outDir, { recursive: true });
    const path = join(outDir, `${key}.ko`);
    await writeFile(path, ko);
    result.push({ name: key, path });
    visiting.delete(key);
    done.add(key);
  };
  for (const name of wanted) await visit(name);
  return result;
}
