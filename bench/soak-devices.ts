/**
 * Virtual devices for the soak benchmark, in their own process so the soak's RSS and file-descriptor
 * figures measure Flashline, not the simulator. Units are plugged (started on a random free port, a fresh
 * unit with its own serial and faults) and unplugged (stopped) on request, one JSON line per request and
 * per answer; unplugging answers whether the unit was left with a bootable slot.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  type Faults,
  type PartitionSpec,
  startVirtualDevice,
  type VirtualDeviceHandle,
} from '../virtual-device/index.js';

const self = fileURLToPath(import.meta.url);
const KiB = 1024;

/** Small partitions: the soak measures the station over many jobs, not bytes per job. */
export const SOAK_PARTITIONS: readonly PartitionSpec[] = [
  { name: 'boot', size: 256 * KiB, slotted: true },
  { name: 'system', size: 512 * KiB, slotted: true },
  { name: 'misc', size: 64 * KiB, slotted: false },
];

export interface UnpluggedUnit {
  readonly serial: string;
  /** At least one slot can boot: the unit is not bricked. */
  readonly bootable: boolean;
  readonly active: string;
  readonly running: string;
}

export interface SoakDeviceHost {
  /** Plug a fresh unit; resolves to its device id (`tcp:127.0.0.1:PORT`). */
  plug(serial: string, faults: Faults): Promise<string>;
  /** Unplug (power off) the unit at `address` and say what it was left with. */
  unplug(address: string): Promise<UnpluggedUnit>;
  /** Resolves if the host process ends on its own (a crash of the simulator). */
  readonly exited: Promise<number | null>;
  close(): Promise<void>;
}

type Command = { op: 'plug'; serial: string; faults: Faults } | { op: 'unplug'; address: string };
type Request = { id: number } & Command;
type Answer = { id: number; error?: string; address?: string; unit?: UnpluggedUnit };

export async function startSoakDeviceHost(): Promise<SoakDeviceHost> {
  const child = spawn(process.execPath, ['--import', 'tsx', self, '--child'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdin.on('error', () => {});
  let closing = false;
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      for (const p of pending.values()) p.reject(new Error('soak device host exited'));
      if (!closing) resolve(code);
    }),
  );
  const pending = new Map<number, { resolve: (a: Answer) => void; reject: (e: Error) => void }>();
  createInterface({ input: child.stdout }).on('line', (line) => {
    const answer = JSON.parse(line) as Answer;
    const p = pending.get(answer.id);
    pending.delete(answer.id);
    if (answer.error) p?.reject(new Error(answer.error));
    else p?.resolve(answer);
  });
  let next = 0;
  const ask = (req: Command) =>
    new Promise<Answer>((resolve, reject) => {
      const id = next++;
      pending.set(id, { resolve, reject });
      child.stdin.write(`${JSON.stringify({ ...req, id })}\n`);
    });
  return {
    plug: async (serial, faults) => (await ask({ op: 'plug', serial, faults })).address as string,
    unplug: async (address) => (await ask({ op: 'unplug', address })).unit as UnpluggedUnit,
    exited,
    close: async () => {
      closing = true;
      child.stdin.end();
      const t = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await new Promise((r) => (child.exitCode === null ? child.once('exit', r) : r(undefined)));
      clearTimeout(t);
    },
  };
}

/**
 * Ports for units: random, from below the kernel's ephemeral range, and never handed to a new unit while
 * another holds it. With port 0 the kernel could give a new unit the port of one that is rebooting (its
 * listener closed for the boot delay); the rebooting unit then could not listen again.
 */
const PORTS = { first: 20_000, count: 10_000 } as const;

async function serve(): Promise<void> {
  const units = new Map<string, { vd: VirtualDeviceHandle; port: number }>();
  const taken = new Set<number>();
  const answer = (a: Answer) => process.stdout.write(`${JSON.stringify(a)}\n`);
  const start = async (req: Extract<Request, { op: 'plug' }>) => {
    for (let attempt = 0; ; attempt++) {
      const port = PORTS.first + Math.floor(Math.random() * PORTS.count);
      if (taken.has(port)) continue;
      taken.add(port);
      try {
        const vd = await startVirtualDevice({
          serial: req.serial,
          tcp: { host: '127.0.0.1', port },
          partitions: SOAK_PARTITIONS,
          maxDownloadSize: 64 * KiB,
          bootDelayMs: 30,
          faults: req.faults,
        });
        return { vd, port };
      } catch (err) {
        taken.delete(port);
        // Someone else on this machine uses that port: pick another.
        if (attempt > 20 || !/EADDRINUSE/.test(String(err))) throw err;
      }
    }
  };
  const handle = async (req: Request): Promise<Answer> => {
    if (req.op === 'plug') {
      const unit = await start(req);
      units.set(unit.vd.address, unit);
      return { id: req.id, address: unit.vd.address };
    }
    const unit = units.get(req.address);
    if (!unit) return { id: req.id, error: `no unit at ${req.address}` };
    units.delete(req.address);
    const { vd } = unit;
    // Removing the unit's temp state can race a write the pulled unit still had in flight (ENOTEMPTY);
    // the unit is off either way, and its slots are read from memory below.
    await vd.stop().catch((err: unknown) => process.stderr.write(`soak unit ${vd.serial}: ${String(err)}\n`));
    taken.delete(unit.port);
    const bc = vd.device.bootControl;
    return {
      id: req.id,
      unit: {
        serial: vd.serial,
        bootable: !bc.slots.a.unbootable || !bc.slots.b.unbootable,
        active: bc.active,
        running: vd.device.runningVersion,
      },
    };
  };
  const rl = createInterface({ input: process.stdin });
  rl.on('line', (line) => {
    const req = JSON.parse(line) as Request;
    handle(req).then(answer, (err: unknown) =>
      answer({ id: req.id, error: err instanceof Error ? err.message : String(err) }),
    );
  });
  rl.on('close', () => {
    void Promise.all([...units.values()].map((u) => u.vd.stop().catch(() => undefined))).then(() =>
      process.exit(0),
    );
  });
}

if (process.argv[1] === self && process.argv[2] === '--child') await serve();
