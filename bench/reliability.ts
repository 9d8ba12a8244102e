/**
 * `npm run reliability -- --cases N [--json] [--seed S] [--concurrency C]`: N flash jobs against virtual
 * devices with randomized faults (cable pulls, power loss at every stage, bad boots, garbage replies,
 * latency, small storage, low battery). Prints the counts: OK, clean failures by code, hangs (must be 0) and
 * devices left without a bootable slot (must be 0). Exit code 1 when either of those is non-zero.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { DEMO_PARTITIONS, makeDemoPackage } from '../main/cli/commands/demo.js';
import { FlashService } from '../main/flash/service.js';
import {
  type Faults,
  POWER_LOSS_STAGES,
  startVirtualDevice,
  type VirtualDeviceOptions,
} from '../virtual-device/index.js';

const MiB = 1024 * 1024;
const IMAGE_BYTES = 1 * MiB + 3 * MiB;
/** A job that has not ended after this long is counted as a hang (and cancelled). */
const HANG_MS = 120_000;

function rng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 2 ** 32;
  };
}

interface Case {
  readonly name: string;
  readonly faults?: Faults;
  readonly device?: Partial<VirtualDeviceOptions>;
}

function randomCase(r: () => number): Case {
  const pick = Math.floor(r() * 9);
  const byte = Math.floor(r() * IMAGE_BYTES * 0.9) + 1;
  switch (pick) {
    case 0:
      return { name: 'none' };
    case 1:
    case 2:
      return { name: 'drop-at-byte', faults: { dropAtByte: Math.floor(r() * MiB) + 1 } };
    case 3:
    case 4: {
      const stage = POWER_LOSS_STAGES[Math.floor(r() * POWER_LOSS_STAGES.length)]!;
      const at = stage === 'download' || stage === 'flash' ? byte % MiB : Math.floor(r() * 3);
      return { name: `power-loss-${stage}`, faults: { powerLoss: { stage, at } } };
    }
    case 5:
      return { name: 'bad-boot', faults: { badBoot: ['b'] } };
    case 6:
      return { name: 'garbage-replies', faults: { garbageReplies: true } };
    case 7:
      return { name: 'latency', faults: { latencyMs: Math.floor(r() * 20) } };
    default:
      return r() < 0.5
        ? { name: 'capacity', device: { capacity: 2 * MiB } }
        : { name: 'battery-low', device: { batteryLevel: 3 } };
  }
}

interface Outcome {
  readonly name: string;
  readonly status: number | 'hang';
  readonly bootable: boolean;
}

async function runCase(c: Case, pkgPath: string, home: string, index: number): Promise<Outcome> {
  const vd = await startVirtualDevice({
    serial: `REL${index}`,
    partitions: DEMO_PARTITIONS,
    maxDownloadSize: MiB,
    bootDelayMs: 100,
    ...c.device,
    ...(c.faults ? { faults: c.faults } : {}),
  });
  try {
    const service = new FlashService({
      home,
      concurrency: 1,
      engine: {
        timeouts: {
          commandMs: 5_000,
          minDownloadBytesPerSecond: 512 * 1024,
          rebootMs: 10_000,
          connectMs: 2_000,
        },
        retry: { attempts: 6, baseDelayMs: 50, maxDelayMs: 500 },
        pieceSize: 512 * 1024,
      },
    });
    const [jobId] = await service.flash(pkgPath, [vd.address]);
    let timer: NodeJS.Timeout | undefined;
    const hang = new Promise<'hang'>((resolve) => {
      timer = setTimeout(() => resolve('hang'), HANG_MS);
    });
    const result = await Promise.race([service.manager.wait(jobId!), hang]);
    clearTimeout(timer);
    if (result === 'hang') {
      service.manager.cancelAll();
      return { name: c.name, status: 'hang', bootable: bootable(vd) };
    }
    // Give a device that reboots on its own (fallback, power loss) time to settle before judging it.
    await new Promise((r) => setTimeout(r, 400));
    return { name: c.name, status: result.status, bootable: bootable(vd) };
  } finally {
    await vd.stop();
  }
}

function bootable(vd: {
  device: { bootControl: { slots: { a: { unbootable: boolean }; b: { unbootable: boolean } } } };
}) {
  const s = vd.device.bootControl.slots;
  return !s.a.unbootable || !s.b.unbootable;
}

function arg(args: string[], name: string): string | undefined {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
}

export async function run(args: string[]): Promise<number> {
  const cases = Number(arg(args, '--cases') ?? '20');
  const seed = Number(arg(args, '--seed') ?? String(Date.now() % 1e9));
  const concurrency = Number(arg(args, '--concurrency') ?? '4');
  const json = args.includes('--json');
  if (!Number.isInteger(cases) || cases < 1 || !Number.isInteger(concurrency) || concurrency < 1) {
    process.stderr.write('usage: npm run reliability -- --cases N [--seed S] [--concurrency C] [--json]\n');
    return 2;
  }
  const dir = mkdtempSync(join(tmpdir(), 'flashline-reliability-'));
  try {
    const pkgPath = await makeDemoPackage(join(dir, 'rel.flp'), { bootSize: MiB, systemSize: 3 * MiB });
    const r = rng(seed);
    const plan = Array.from({ length: cases }, () => randomCase(r));
    const outcomes: Outcome[] = [];
    let next = 0;
    const worker = async () => {
      while (next < plan.length) {
        const i = next++;
        const o = await runCase(plan[i]!, pkgPath, join(dir, `home-${i}`), i);
        outcomes.push(o);
        if (!json)
          process.stderr.write(
            `case ${i + 1}/${cases} ${o.name}: ${o.status}${o.bootable ? '' : ' NOT BOOTABLE'}\n`,
          );
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, cases) }, worker));
    const ok = outcomes.filter((o) => o.status === 0).length;
    const hangs = outcomes.filter((o) => o.status === 'hang').length;
    const bricked = outcomes.filter((o) => !o.bootable).length;
    const failures: Record<string, number> = {};
    for (const o of outcomes)
      if (typeof o.status === 'number' && o.status !== 0) failures[o.status] = (failures[o.status] ?? 0) + 1;
    const byFault: Record<string, Record<string, number>> = {};
    for (const o of outcomes) {
      const f = byFault[o.name] ?? {};
      byFault[o.name] = f;
      f[String(o.status)] = (f[String(o.status)] ?? 0) + 1;
    }
    const summary = {
      cases,
      seed,
      ok,
      cleanFailures: failures,
      hangs,
      devicesWithoutBootableSlot: bricked,
      byFault,
    };
    if (json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    else {
      process.stdout.write(
        [
          `reliability: ${cases} cases (seed ${seed})`,
          `  OK: ${ok}`,
          `  clean failures by code: ${
            Object.entries(failures)
              .map(([c, n]) => `${c}×${n}`)
              .join(', ') || 'none'
          }`,
          `  hangs: ${hangs} (must be 0)`,
          `  devices without a bootable slot: ${bricked} (must be 0)`,
          `  by fault: ${Object.entries(byFault)
            .map(([f, s]) => `${f} ${JSON.stringify(s)}`)
            .join('; ')}`,
          '',
        ].join('\n'),
      );
    }
    return hangs === 0 && bricked === 0 ? 0 : 1;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  process.exitCode = await run(process.argv.slice(2));
}
