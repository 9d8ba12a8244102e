/**
 * Runs `node bin/flashline.js …` as a child process, the way a script or a factory line runs it, with
 * FLASHLINE_CHECK_EXIT=1: the CLI does not force its exit, so a handle, timer, socket or serial port left
 * open keeps the child alive and the CLI itself names it (exit LEAK_EXIT_CODE) — a leak fails the test.
 * Optionally sends SIGTERM once the output shows the command is at work, and bounds the whole run: a child
 * that outlives `boundMs` after the signal (or `deadlineMs` overall) is killed and reported.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CHECK_EXIT_ENV, LEAK_EXIT_CODE } from '../../../main/cli/exit.js';
import { STOP_GRACE_MS } from '../../../main/cli/stop-signals.js';

const cli = fileURLToPath(new URL('../../../bin/flashline.js', import.meta.url));

export { LEAK_EXIT_CODE };

export interface ChildRun {
  /** Exit code, or null when a signal ended the process. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** The child had to be killed: it did not end by itself within the bound. */
  readonly killed: boolean;
  /** SIGTERM was sent (its trigger matched). */
  readonly signalled: boolean;
}

export interface ChildOptions {
  readonly env?: Record<string, string>;
  /** Send SIGTERM as soon as stdout+stderr match this (`'spawn'`: right after start). */
  readonly sigtermWhen?: RegExp | 'spawn';
  /** After SIGTERM the child must be gone within this (default: the CLI's stop grace + 5 s of slack). */
  readonly boundMs?: number;
  /** Overall limit for a run that is not signalled (default 120 s: a loaded CI machine is slow). */
  readonly deadlineMs?: number;
  /** Called with the child once it is spawned (e.g. to write to it). */
  readonly onSpawn?: (child: ChildProcess) => void;
}

export function runFlashline(args: readonly string[], options: ChildOptions = {}): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      env: { ...process.env, ...options.env, [CHECK_EXIT_ENV]: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let killed = false;
    let signalled = false;
    const kill = () => {
      killed = true;
      child.kill('SIGKILL');
    };
    let limit = setTimeout(kill, options.deadlineMs ?? 120_000);
    const sigterm = () => {
      if (signalled) return;
      signalled = true;
      child.kill('SIGTERM');
      clearTimeout(limit);
      limit = setTimeout(kill, options.boundMs ?? STOP_GRACE_MS + 5000);
    };
    const watch = () => {
      const when = options.sigtermWhen;
      if (when instanceof RegExp && when.test(stdout + stderr)) sigterm();
    };
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      watch();
    });
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      watch();
    });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(limit);
      resolve({ code, signal, stdout, stderr, killed, signalled });
    });
    options.onSpawn?.(child);
    if (options.sigtermWhen === 'spawn') sigterm();
  });
}

/** One line for an assertion message: how the child ended and the tail of what it said. */
export function describeRun(r: ChildRun): string {
  const how = r.killed ? 'was killed (did not exit)' : `ended with ${r.code ?? r.signal}`;
  return `${how}\n--- stdout ---\n${r.stdout.slice(-1500)}\n--- stderr ---\n${r.stderr.slice(-1500)}`;
}
