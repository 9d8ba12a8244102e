/**
 * One call that does the whole VM run: fetch/cache the Debian pieces, build the initramfs with the given
 * programs, boot, and return what the programs reported. Used by test/usb/ and by `scripts/usb-vm/run.ts`.
 */
import { existsSync } from 'node:fs';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ensureAssets, type VmAssets } from './debian-assets.js';
import { buildInitramfs, projectRoot } from './initramfs.js';
import { type Accel, runVm, type VmRunResult } from './qemu.js';

export const cacheDir = join(projectRoot, '.cache', 'usb-vm');

/** The programs of the full USB test, bundled into /app: the VM program, the gadget, the `flashline` CLI. */
export const USB_VM_PROGRAMS: Record<string, string> = {
  'vm-main': 'test/usb/vm/main.ts',
  gadget: 'virtual-device/usb-gadget/serve.ts',
  flashline: 'main/cli/index.ts',
};

/**
 * Host binaries the VM gets with their libraries: Google's fastboot, Debian's qdl (the EDL peer; .ci/run
 * installs it), and Debian's adb when the host has it (the debian-adb step runs only then).
 */
export function usbVmHostBinaries(): string[] {
  const qdl = '/usr/bin/qdl';
  if (!existsSync(qdl))
    throw new Error(`${qdl} is missing: apt-get install qdl (the EDL steps run it in the VM)`);
  return ['/usr/bin/fastboot', qdl, ...(existsSync('/usr/bin/adb') ? ['/usr/bin/adb'] : [])];
}

export interface HarnessOptions {
  programs: Record<string, string>;
  command: string;
  hostBinaries?: readonly string[];
  timeoutMs?: number;
  accel?: Accel;
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface HarnessResult extends VmRunResult {
  buildMs: number;
  initrdBytes: number;
}

export async function runInVm(opts: HarnessOptions): Promise<HarnessResult> {
  const t0 = Date.now();
  const assets = await ensureAssets(cacheDir);
  // One build dir per run, so two runs (two engineers, or CI beside a manual run) never share an initramfs.
  const workDir = join(cacheDir, 'build', String(process.pid));
  try {
    return await buildAndBoot(opts, assets, workDir, t0);
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function buildAndBoot(
  opts: HarnessOptions,
  assets: VmAssets,
  workDir: string,
  t0: number,
): Promise<HarnessResult> {
  const initrd = await buildInitramfs({
    assets,
    workDir,
    programs: opts.programs,
    command: opts.command,
    hostBinaries: opts.hostBinaries ?? [],
  });
  const { size } = await stat(initrd);
  const buildMs = Date.now() - t0;
  const res = await runVm({
    qemu: assets.qemu,
    kernel: assets.kernel,
    initrd,
    timeoutMs: opts.timeoutMs ?? 15 * 60_000,
    ...(opts.accel ? { accel: opts.accel } : {}),
    ...(opts.onLine ? { onLine: opts.onLine } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  return { ...res, buildMs, initrdBytes: size };
}
