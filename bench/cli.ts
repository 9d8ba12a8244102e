/**
 * `npm run bench -- cli [--json] [--rounds N]`
 * Start-up of the installed command: wall time of `flashline --version` and `flashline devices --no-usb
 * --no-list-serial` (nothing to find, so it is all start-up, option parsing and an empty discovery), each run as
 * a fresh `node bin/flashline.js …` process exactly as a user or script runs it, against `node -e 0` (the floor:
 * Node's own start-up) in the same run, interleaved round by round so load affects all alike. For comparison it
 * also times `--version` from the TypeScript sources through tsx (FLASHLINE_FROM_SOURCE=1), the way every
 * command ran before the compiled build. Goals (issue 18): --version ≤ 150 ms, devices ≤ 300 ms wall. CPU time
 * per process (Linux) is printed beside the wall time: under load it says more about the command itself.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { median, option } from './_stats.js';

const bin = fileURLToPath(new URL('../bin/flashline.js', import.meta.url));

interface Case {
  readonly name: string;
  readonly args: readonly string[];
  readonly env?: Record<string, string>;
  /** Milliseconds the issue allows for this command, wall time. */
  readonly goalMs?: number;
}

const cases: readonly Case[] = [
  { name: 'node -e 0', args: ['-e', '0'] },
  { name: 'flashline --version', args: [bin, '--version'], goalMs: 150 },
  {
    name: 'flashline devices --no-usb --no-list-serial',
    args: [bin, 'devices', '--no-usb', '--no-list-serial'],
    goalMs: 300,
  },
  {
    name: 'flashline --version from source (tsx)',
    args: [bin, '--version'],
    env: { FLASHLINE_FROM_SOURCE: '1' },
  },
];

const clockTicksPerSecond =
  Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * CPU time (user + system, ms) of this process's children that have ended, from /proc/self/stat (Linux): wall
 * time on a loaded machine mostly measures the others, CPU time what the command itself costs. Clock-tick
 * resolution (10 ms), so it is summed over all runs of a command and divided.
 */
function childrenCpuMs(): number {
  const stat = readFileSync('/proc/self/stat', 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields 16 and 17 of proc(5) (cutime, cstime); field 3 is the first after the command name.
  return ((Number(fields[13]) + Number(fields[14])) * 1000) / clockTicksPerSecond;
}

/** One fresh process: wall and CPU ms. A command that fails spoils the benchmark, so it throws. */
function timeOnce(c: Case): { wallMs: number; cpuMs: number } {
  const cpu0 = childrenCpuMs();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, c.args, {
    env: { ...process.env, ...c.env },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const wallMs = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${c.name} exited ${r.status ?? r.signal}: ${r.stderr}`);
  return { wallMs, cpuMs: childrenCpuMs() - cpu0 };
}

function load(): string {
  return loadavg()
    .map((l) => l.toFixed(2))
    .join(', ');
}

export async function run(args: string[]): Promise<number> {
  const json = args.includes('--json');
  const rounds = Number(option(args, '--rounds') ?? 21);
  const loadBefore = load();
  // The first run after a source change rebuilds dist/cli; that is not what is measured.
  timeOnce(cases[1]!);
  const wall = new Map<string, number[]>(cases.map((c) => [c.name, []]));
  const cpu = new Map<string, number>(cases.map((c) => [c.name, 0]));
  for (let r = 0; r < rounds; r++) {
    // Rotate the order every round so no command always runs right after another.
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + r) % cases.length]!;
      const t = timeOnce(c);
      wall.get(c.name)!.push(t.wallMs);
      cpu.set(c.name, cpu.get(c.name)! + t.cpuMs);
    }
  }
  const floor = median(wall.get(cases[0]!.name)!);
  const cpuFloor = cpu.get(cases[0]!.name)! / rounds;
  const results = cases.map((c) => {
    const ms = median(wall.get(c.name)!);
    const cpuMs = cpu.get(c.name)! / rounds;
    return {
      command: c.name,
      medianMs: Math.round(ms),
      ratioToNode: +(ms / floor).toFixed(2),
      overNodeMs: Math.round(ms - floor),
      cpuMs: Math.round(cpuMs),
      cpuRatioToNode: +(cpuMs / cpuFloor).toFixed(2),
      ...(c.goalMs === undefined ? {} : { goalMs: c.goalMs, met: ms <= c.goalMs }),
    };
  });
  const report = { rounds, loadBefore, loadAfter: load(), results };
  if (json) {
    process.stdout.write(`${JSON.stringify(report)}\n`);
    return 0;
  }
  process.stdout.write(
    `${rounds} fresh processes each, interleaved (load average ${loadBefore}): median wall time, mean CPU time\n`,
  );
  for (const r of results) {
    const goal = r.goalMs === undefined ? '' : `  goal ≤ ${r.goalMs} ms: ${r.met ? 'met' : 'NOT met'}`;
    process.stdout.write(
      `${r.command.padEnd(46)} wall ${String(r.medianMs).padStart(4)} ms ${r.ratioToNode.toFixed(2).padStart(5)}× node -e 0 (+${r.overNodeMs} ms)  cpu ${String(r.cpuMs).padStart(4)} ms ${r.cpuRatioToNode.toFixed(2).padStart(5)}×${goal}\n`,
    );
  }
  process.stdout.write(`load average after: ${report.loadAfter}\n`);
  return 0;
}
