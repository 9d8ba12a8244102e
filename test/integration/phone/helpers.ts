/**
 * Helpers for the stock-phone tests: Google's fastboot and Debian's adb as child processes (bounded), an
 * adb server of the test's own (own port, HOME in a temp dir, killed afterwards), and a refused-connection
 * check.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Ran {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

export function runTool(cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): Promise<Ran> {
  return new Promise((resolve) => {
    // Bounded: both clients wait forever for an absent device.
    execFile(cmd, [...args], { timeout: 30_000, env: env ?? process.env }, (error, out, err) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, out, err });
    });
  });
}

/** `fastboot -s ADDRESS …`; the client prints to stderr. */
export async function fastboot(address: string, ...args: string[]): Promise<string> {
  const r = await runTool('fastboot', ['-s', address, ...args]);
  assert.equal(r.code, 0, `fastboot ${args.join(' ')}: ${r.out}${r.err}`);
  return `${r.out}${r.err}`;
}

/** Resolves with the connect error code ('ECONNREFUSED' when nothing listens), or 'connected'. */
export function probeTcp(port: number): Promise<string> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve('connected');
    });
    s.once('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
  });
}

/** Poll (bounded) until `check` resolves true; timings are never asserted, only that it happens. */
export async function eventually(check: () => Promise<boolean>, what: string, tries = 100): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`never happened: ${what}`);
}

/** A Debian adb server of the test's own: free port, HOME in a temp dir. Call stop() in `after`. */
export class AdbServer {
  private constructor(
    readonly home: string,
    readonly port: number,
  ) {}

  static async start(): Promise<AdbServer> {
    const home = await fs.mkdtemp(join(tmpdir(), 'flashline-phone-adb-'));
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const port = (probe.address() as { port: number }).port;
    await new Promise((r) => probe.close(r));
    const server = new AdbServer(home, port);
    const started = await server.run('start-server');
    assert.equal(started.code, 0, started.err);
    return server;
  }

  run(...args: string[]): Promise<Ran> {
    return runTool('adb', ['-P', String(this.port), ...args], {
      ...process.env,
      HOME: this.home,
      ANDROID_SDK_HOME: this.home,
    });
  }

  async stop(): Promise<void> {
    await this.run('kill-server');
    await fs.rm(this.home, { recursive: true, force: true });
  }
}
