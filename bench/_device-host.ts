/**
 * Virtual devices in their own process, for benchmarks whose ceiling must measure Flashline, not the
 * simulator: with 16 devices in the engine's process the devices' event-loop work and fsyncs competed with
 * the engine. The parent reads one JSON line `{addresses}` from stdout; closing the child's stdin (or the
 * parent exiting) stops the devices and the process.
 */
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEMO_PARTITIONS } from '../main/cli/commands/demo.js';
import {
  startVirtualDevice,
  type VirtualDeviceHandle,
  type VirtualDeviceOptions,
} from '../virtual-device/index.js';

const self = fileURLToPath(import.meta.url);

export interface DeviceHostOptions {
  readonly count: number;
  readonly rateBytesPerSecond: number;
  readonly maxDownloadSize: number;
  readonly bootDelayMs: number;
  /** Serve on a socat pty pair instead of TCP (addresses are then `serial:PATH`). */
  readonly pty?: boolean;
  /** The virtual device profile (default `reference`). */
  readonly profile?: string;
}

export interface DeviceHost {
  readonly addresses: readonly string[];
  /** CPU seconds (user + system) the device process has used so far (Linux /proc). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const CLOCK_TICKS = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** utime + stime of a live process from /proc/PID/stat (fields 14 and 15, after the command in parentheses). */
function procCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return 0;
  }
}

/** Spawn the child and wait (bounded) until all its devices listen. */
export function startDeviceHost(opts: DeviceHostOptions): Promise<DeviceHost> {
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--child', JSON.stringify(opts)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  // Writing to (or ending) the stdin of a child that already died raises EPIPE; the exit is what counts.
  child.stdin.on('error', () => {});
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.stdin.end();
    const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(t);
  };
  return new Promise<DeviceHost>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('virtual device host did not start within 60 s'));
    }, 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`virtual device host exited early (code ${code})`));
    });
    createInterface({ input: child.stdout }).once('line', (line) => {
      clearTimeout(timer);
      const parsed = JSON.parse(line) as { addresses?: unknown };
      const addresses = parsed.addresses;
      if (!Array.isArray(addresses) || !addresses.every((a) => typeof a === 'string')) {
        child.kill('SIGKILL');
        reject(new Error(`virtual device host said '${line.slice(0, 200)}'`));
        return;
      }
      resolve({ addresses, stop, cpuSeconds: () => procCpuSeconds(child.pid) });
    });
  });
}

async function child(opts: DeviceHostOptions): Promise<void> {
  const devices: VirtualDeviceHandle[] = [];
  const stopAll = async () => {
    await Promise.all(devices.map((d) => d.stop().catch(() => undefined)));
    process.exit(0);
  };
  process.stdin.on('end', () => void stopAll());
  process.stdin.on('close', () => void stopAll());
  process.stdin.resume();
  for (let i = 0; i < opts.count; i++) {
    devices.push(
      await startVirtualDevice({
        serial: `BENCH${String(i + 1).padStart(3, '0')}`,
        partitions: DEMO_PARTITIONS,
        maxDownloadSize: opts.maxDownloadSize,
        bootDelayMs: opts.bootDelayMs,
        faults: opts.rateBytesPerSecond > 0 ? { rateBytesPerSecond: opts.rateBytesPerSecond } : {},
        ...(opts.pty ? { tcp: false as const, pty: true } : {}),
        ...(opts.profile ? { profile: opts.profile as VirtualDeviceOptions['profile'] } : {}),
      }),
    );
  }
  process.stdout.write(`${JSON.stringify({ addresses: devices.map((d) => d.address) })}\n`);
}

if (process.argv[1] === self && process.argv[2] === '--child') {
  await child(JSON.parse(process.argv[3] ?? '{}') as DeviceHostOptions);
}
