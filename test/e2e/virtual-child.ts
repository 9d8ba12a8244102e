/**
 * `flashline virtual-device … --json` as a real child process for the e2e tests: its JSON stdout lines are
 * collected so a test can wait for the one it needs (where the device listens, an event it reports).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { projectRoot } from './browser.js';

export interface VirtualChild {
  readonly child: ChildProcess;
  /** The first JSON line matching `pred` (already printed or still to come). */
  line<T = Record<string, unknown>>(pred: (row: Record<string, unknown>) => boolean): Promise<T>;
  stop(): Promise<void>;
}

export function startVirtualChild(args: readonly string[]): VirtualChild {
  const child = spawn(process.execPath, ['bin/flashline.js', 'virtual-device', '--json', ...args], {
    cwd: projectRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const rows: Record<string, unknown>[] = [];
  const waiters = new Set<() => void>();
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr = (stderr + c.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    if (!text.startsWith('{') && !text.startsWith('[')) return;
    const parsed = JSON.parse(text) as Record<string, unknown> | Record<string, unknown>[];
    rows.push(...(Array.isArray(parsed) ? parsed : [parsed]));
    for (const w of waiters) w();
  });
  return {
    child,
    line<T>(pred: (row: Record<string, unknown>) => boolean): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        const check = () => {
          const row = rows.find(pred);
          if (!row) return;
          waiters.delete(check);
          resolve(row as T);
        };
        waiters.add(check);
        check();
        void exited.then(() => {
          if (waiters.delete(check)) reject(new Error(`virtual-device ${args.join(' ')} exited: ${stderr}`));
        });
      });
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
