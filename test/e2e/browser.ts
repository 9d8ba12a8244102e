/**
 * Helpers for the end-to-end tests: Debian's Chromium driven by playwright-core (which cannot download a
 * browser here), a fresh profile per run, and `flashline station` as a real child process.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type BrowserContext, chromium } from 'playwright-core';

export const projectRoot = new URL('../../', import.meta.url).pathname;
export const artifactsDir = join(projectRoot, 'test', 'e2e', 'artifacts');
export const CHROMIUM = process.env.FLASHLINE_CHROMIUM ?? '/usr/bin/chromium';

export interface Browser {
  readonly context: BrowserContext;
  close(): Promise<void>;
}

export async function launchBrowser(): Promise<Browser> {
  mkdirSync(artifactsDir, { recursive: true });
  const profile = mkdtempSync(join(tmpdir(), 'flashline-e2e-profile-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    timeout: 60_000,
    viewport: { width: 1100, height: 720 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
      '--disable-sync',
    ],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

export interface StationProcess {
  readonly url: string;
  readonly origin: string;
  readonly token: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * Start `flashline station --port 0 --json` and read where it listens from its first stdout line.
 * `home`: a prepared FLASHLINE_HOME (e.g. with a fleet.json); default a fresh temp one.
 */
export async function startStationProcess(
  extraArgs: readonly string[] = [],
  options: { readonly home?: string } = {},
): Promise<StationProcess> {
  const home = options.home ?? mkdtempSync(join(tmpdir(), 'flashline-e2e-home-'));
  const child = spawn(
    process.execPath,
    // No USB/serial discovery: the page must show exactly the devices the test expects (none).
    ['bin/flashline.js', 'station', '--port', '0', '--json', '--no-usb', '--no-serial', ...extraArgs],
    {
      cwd: projectRoot,
      env: { ...process.env, FLASHLINE_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const lines = createInterface({ input: child.stdout! });
  const first = await Promise.race([
    new Promise<string>((resolve) => lines.once('line', resolve)),
    exited.then(() => {
      throw new Error(`flashline station exited before printing its URL: ${stderr}`);
    }),
  ]);
  const parsed = JSON.parse(first) as { url: string; token: string };
  const origin = new URL(parsed.url).origin;
  return {
    url: parsed.url,
    origin,
    token: parsed.token,
    child,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(home, { recursive: true, force: true });
    },
  };
}
