#!/usr/bin/env node
// `npm start`: build, then open the desktop window. When the Electron binary is missing or cannot start
// (no internet to fetch it, no display), print one line saying so and serve station mode instead.
// Options: `npm start -- --port N` (station fallback port, default 7480; 0 picks a free one).
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { register } from 'tsx/esm/api';
import { buildElectron, buildRenderer } from './build.mjs';

register();
const root = fileURLToPath(new URL('..', import.meta.url));
const { decideLaunch, fallbackLine } = await import('../electron/launch-decision.ts');

function parsePortArg(argv) {
  const i = argv.indexOf('--port');
  if (i === -1) return 7480;
  const value = argv[i + 1] ?? '';
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) {
    process.stderr.write(`npm start: '${value}' is not a TCP port (0-65535).\n`);
    process.exit(2);
  }
  return n;
}

function electronExecutable() {
  try {
    // The `electron` package exports the binary's path, or throws when the download was skipped.
    const path = createRequire(import.meta.url)('electron');
    return typeof path === 'string' ? path : undefined;
  } catch {
    return undefined;
  }
}

async function startStation(reason) {
  process.stdout.write(`${fallbackLine(reason)}\n`);
  const { runStation } = await import('../main/station/run-station.ts');
  const { startLiveService } = await import('../main/station/live-service.ts');
  const log = (line) => process.stderr.write(`${line}\n`);
  // The same composition as the desktop window and `flashline station`.
  const live = await startLiveService({ mode: 'station', usb: true, serial: true, log });
  const station = await runStation({
    host: '127.0.0.1',
    port: parsePortArg(process.argv.slice(2)),
    allowRemote: false,
    log,
    service: live.service,
  });
  process.stdout.write(`Flashline station is running. Open ${station.url}\nPress Ctrl-C to stop.\n`);
  await new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await station.close();
  live.stop();
}

/** Resolves to null when the window opened and later closed, or to a reason when it never opened. */
function runElectron(electronPath) {
  return new Promise((resolve) => {
    const child = spawn(electronPath, [root], { cwd: root, stdio: ['inherit', 'pipe', 'inherit'] });
    let opened = false;
    child.stdout.on('data', (chunk) => {
      const text = chunk.toString();
      if (text.includes('FLASHLINE_WINDOW_READY')) opened = true;
      process.stdout.write(text.replace(/FLASHLINE_WINDOW_READY\n?/g, ''));
    });
    child.on('error', (err) => resolve(`Electron could not be started (${err.message})`));
    child.on('exit', (code, signal) => {
      if (opened) resolve(null);
      else resolve(`Electron exited (${signal ?? `code ${code}`}) before its window opened`);
    });
    for (const sig of ['SIGINT', 'SIGTERM']) process.once(sig, () => child.kill(sig));
  });
}

try {
  await buildRenderer();
  await buildElectron();
} catch (err) {
  process.stderr.write(`npm start: the build failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}

const electronPath = electronExecutable();
const decision = decideLaunch({
  platform: process.platform,
  env: process.env,
  electronPath,
  electronBinaryExists:
    electronPath !== undefined && existsSync(electronPath) && statSync(electronPath).isFile(),
});
if (decision.kind === 'station') {
  await startStation(decision.reason);
} else {
  const failure = await runElectron(decision.electronPath);
  if (failure) await startStation(failure);
}
