#!/usr/bin/env node
// `npm install` runs this as the project's postinstall. Electron's own install script is denied in
// package.json (`allowScripts`) because it fails the whole `npm install` when its download host cannot be
// reached — a factory PC behind a proxy, or a machine that reaches only the npm registry. Here the same
// download is tried where the network allows, bounded in time, and a failure is one line, never an error:
// only `npm start`'s desktop window needs the binary, and `npm start` falls back to station mode without it.
// Run it again later with `npm run fetch-electron` (ELECTRON_MIRROR / HTTPS_PROXY are honoured by Electron).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const TIME_LIMIT_MS = 180_000;
const require = createRequire(import.meta.url);

function say(line) {
  process.stdout.write(`flashline: ${line}\n`);
}

let installScript;
try {
  installScript = join(dirname(require.resolve('electron/package.json')), 'install.js');
} catch {
  installScript = undefined;
}
if (!installScript || !existsSync(installScript)) {
  say('the electron package is not installed; the desktop window is unavailable, station mode works.');
  process.exit(0);
}
if (process.env.ELECTRON_SKIP_BINARY_DOWNLOAD) {
  say(
    'ELECTRON_SKIP_BINARY_DOWNLOAD is set: the desktop binary was not fetched (`npm run fetch-electron` fetches it).',
  );
  process.exit(0);
}

const child = spawn(process.execPath, [installScript], { stdio: ['ignore', 'ignore', 'pipe'] });
let stderr = '';
child.stderr.on('data', (chunk) => {
  if (stderr.length < 4096) stderr += chunk.toString();
});
const timer = setTimeout(() => child.kill('SIGKILL'), TIME_LIMIT_MS);
child.on('exit', (code, signal) => {
  clearTimeout(timer);
  if (code === 0) {
    say('Electron desktop binary is ready (`npm start` opens the desktop window).');
    return;
  }
  const firstLine =
    stderr
      .split('\n')
      .map((l) => l.trim())
      .find((l) => /error/i.test(l)) ?? (signal ? `stopped after ${TIME_LIMIT_MS / 1000} s` : `exit ${code}`);
  say(
    `the Electron desktop binary could not be downloaded (${firstLine}). Everything else is installed: ` +
      '`npm start` serves station mode in a browser instead. With internet access, `npm run fetch-electron` fetches it.',
  );
});
