/**
 * Fetches what the USB VM needs from Debian's archive and caches it in `.cache/usb-vm/` (git-ignored):
 * the kernel that `linux-image-amd64` depends on and `busybox-static`, both via `apt-get download` and
 * unpacked with `dpkg -x`; `qemu-system-x86` is installed with apt-get only when missing.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const APT_TIMEOUT_MS = 15 * 60_000;

export interface VmAssets {
  /** bzImage to pass to qemu's -kernel. */
  kernel: string;
  /** Kernel release, e.g. `6.1.0-56-amd64`. */
  release: string;
  /** `lib/modules/<release>` inside the unpacked kernel package. */
  modulesDir: string;
  /** The statically linked busybox binary. */
  busybox: string;
  /** qemu-system-x86_64 on PATH. */
  qemu: string;
}

async function sh(cmd: string, args: string[], cwd?: string): Promise<string> {
  try {
    const r = await run(cmd, args, {
      cwd,
      timeout: APT_TIMEOUT_MS,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    return r.stdout;
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`usb-vm: \`${cmd} ${args.join(' ')}\` failed: ${(e.stderr ?? e.message).trim()}`);
  }
}

async function which(name: string): Promise<string | undefined> {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = join(dir, name);
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The versioned kernel image package behind the `linux-image-amd64` metapackage. */
async function kernelPackage(): Promise<string> {
  let out = await sh('apt-cache', ['depends', 'linux-image-amd64']);
  if (!/Depends:/.test(out)) {
    await sh('apt-get', ['update', '-qq']);
    out = await sh('apt-cache', ['depends', 'linux-image-amd64']);
  }
  const m = /Depends:\s*(linux-image-[0-9][\w.+-]*-amd64)\b/.exec(out);
  if (!m?.[1]) throw new Error(`usb-vm: cannot find the kernel package behind linux-image-amd64:\n${out}`);
  return m[1];
}

/** Downloads `pkg` into `debDir` (unless a .deb of it is there) and unpacks it into `rootDir`. */
async function fetchAndUnpack(pkg: string, debDir: string, rootDir: string): Promise<void> {
  const stamp = join(rootDir, `.unpacked-${pkg}`);
  if (existsSync(stamp)) return;
  const prefix = `${pkg}_`;
  let deb = (await readdir(debDir)).find((f) => f.startsWith(prefix) && f.endsWith('.deb'));
  if (!deb) {
    await sh('apt-get', ['download', '-q', pkg], debDir);
    deb = (await readdir(debDir)).find((f) => f.startsWith(prefix) && f.endsWith('.deb'));
    if (!deb) throw new Error(`usb-vm: apt-get download ${pkg} left no .deb in ${debDir}`);
  }
  await sh('dpkg', ['-x', join(debDir, deb), rootDir]);
  await writeFile(stamp, `${deb}\n`);
}

export async function ensureQemu(): Promise<string> {
  const found = await which('qemu-system-x86_64');
  if (found) return found;
  await sh('apt-get', ['update', '-qq']);
  await sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'qemu-system-x86']);
  const after = await which('qemu-system-x86_64');
  if (!after) throw new Error('usb-vm: qemu-system-x86 installed but qemu-system-x86_64 is not on PATH');
  return after;
}

export async function ensureAssets(cacheDir: string): Promise<VmAssets> {
  const debDir = join(cacheDir, 'debs');
  const rootDir = join(cacheDir, 'root');
  await mkdir(debDir, { recursive: true });
  await mkdir(rootDir, { recursive: true });
  const qemu = await ensureQemu();
  const kpkg = await kernelPackage();
  const release = kpkg.replace(/^linux-image-/, '');
  await fetchAndUnpack(kpkg, debDir, rootDir);
  await fetchAndUnpack('busybox-static', debDir, rootDir);
  const kernel = join(rootDir, 'boot', `vmlinuz-${release}`);
  const modulesDir = join(rootDir, 'lib', 'modules', release);
  const busybox = join(rootDir, 'bin', 'busybox');
  for (const p of [kernel, modulesDir, busybox]) {
    if (!existsSync(p))
      throw new Error(`usb-vm: expected ${p} after unpacking; delete ${cacheDir} and retry`);
  }
  return { kernel, release, modulesDir, busybox, qemu };
}
