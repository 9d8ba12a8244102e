/**
 * Boots the USB test VM under qemu and collects what its test program prints on the serial console.
 * TCG (pure emulation) is the default because it works everywhere; KVM is opt-in (FLASHLINE_USB_ACCEL=kvm)
 * because a /dev/kvm that opens is not a KVM that works: on nested hosts (like this project's dev machines)
 * qemu aborts on `-cpu host`/`-cpu max` (MSR 0x10a) and hangs in the BIOS with the default CPU.
 * A VM that has not powered itself off within `timeoutMs` is killed.
 */
import { spawn } from 'node:child_process';
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';

export const MARK_BEGIN = '=== FLASHLINE-USB-BEGIN ===';
export const MARK_END = /=== FLASHLINE-USB-END rc=(\d+) ===/;
/** Lines the VM program prints as `FLASHLINE-USB-RESULT <json>`. */
export const RESULT_PREFIX = 'FLASHLINE-USB-RESULT ';

export type Accel = 'kvm' | 'tcg';

export interface VmRunOptions {
  qemu: string;
  kernel: string;
  initrd: string;
  timeoutMs: number;
  accel?: Accel;
  /** Every console line as it arrives (for live logs). */
  onLine?: (line: string) => void;
  signal?: AbortSignal;
}

export interface VmRunResult {
  accel: Accel;
  /** Exit status of the VM's test program; undefined when the end marker never came. */
  rc: number | undefined;
  /** Console lines between the markers. */
  lines: string[];
  /** Parsed RESULT lines, in order. */
  results: unknown[];
  timedOut: boolean;
  bootMs: number;
  totalMs: number;
}

export async function kvmUsable(): Promise<boolean> {
  try {
    await access('/dev/kvm', constants.R_OK | constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

export async function runVm(opts: VmRunOptions): Promise<VmRunResult> {
  const wantKvm = process.env.FLASHLINE_USB_ACCEL === 'kvm' && (await kvmUsable());
  const accel: Accel = opts.accel ?? (wantKvm ? 'kvm' : 'tcg');
  const accelArgs =
    accel === 'kvm'
      ? ['-enable-kvm', '-cpu', 'host', '-smp', '2']
      : ['-accel', 'tcg,thread=multi', '-cpu', 'max', '-smp', '2'];
  const args = [
    '-n',
    '10',
    opts.qemu,
    '-nographic',
    '-no-reboot',
    '-m',
    '2048',
    ...accelArgs,
    '-kernel',
    opts.kernel,
    '-initrd',
    opts.initrd,
    '-append',
    'console=ttyS0 quiet panic=-1',
  ];
  const started = Date.now();
  // nice: the machine is shared with other test runs; the VM is the heaviest thing on it.
  const child = spawn('nice', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let timedOut = false;
  const kill = (): void => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, opts.timeoutMs);
  const onAbort = (): void => kill();
  opts.signal?.addEventListener('abort', onAbort, { once: true });

  const lines: string[] = [];
  const results: unknown[] = [];
  let inside = false;
  let rc: number | undefined;
  let bootMs = 0;
  const stderr: string[] = [];
  child.stderr.setEncoding('utf8').on('data', (d: string) => stderr.push(d));
  const rl = createInterface({ input: child.stdout });
  rl.on('line', (raw) => {
    const line = raw.replace(/\r/g, '');
    opts.onLine?.(line);
    if (line.includes(MARK_BEGIN)) {
      inside = true;
      bootMs = Date.now() - started;
      return;
    }
    const end = MARK_END.exec(line);
    if (end?.[1]) {
      rc = Number(end[1]);
      inside = false;
      return;
    }
    if (!inside) return;
    lines.push(line);
    const at = line.indexOf(RESULT_PREFIX);
    if (at >= 0) {
      try {
        results.push(JSON.parse(line.slice(at + RESULT_PREFIX.length)));
      } catch {
        results.push({ unparsable: line });
      }
    }
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => resolve(c));
  });
  clearTimeout(timer);
  opts.signal?.removeEventListener('abort', onAbort);
  if (code !== 0 && !timedOut && rc === undefined) {
    throw new Error(`usb-vm: qemu exited with ${code}: ${stderr.join('').trim().slice(0, 2000)}`);
  }
  return { accel, rc, lines, results, timedOut, bootMs, totalMs: Date.now() - started };
}
