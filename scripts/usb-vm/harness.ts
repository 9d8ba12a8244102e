/**
 * One call that does the whole VM run: fetch/cache the Debian pieces, build the initramfs with the given
 * programs, boot, and return what the programs reported. Used by test/usb/ and by `scripts/usb-vm/run.ts`.
 */
import { join } from 'node:path';
import { ensureAssets } from './debian-assets.js';
import { buildInitramfs, projectRoot } from './initramfs.js';
import { type Accel, runVm, type VmRunResult } from './qemu.js';

export const cacheDir = join(projectRoot, '.cache', 'usb-vm');

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
  const initrd = await buildInitramfs({
    assets,
    workDir: join(cacheDir, 'build'),
    programs: opts.programs,
    command: opts.command,
    hostBinaries: opts.hostBinaries ?? [],
  });
  const { size } = await import('node:fs/promises').then((fs) => fs.stat(initrd));
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
