#!/usr/bin/env node
// `npm run build`: the renderer with Vite into dist/renderer, the Electron main process and preload with
// esbuild into dist/electron (CommonJS, as Electron's sandboxed preload requires), and the `flashline` command
// into dist/cli (scripts/build-cli.mjs). `--renderer`, `--electron` or `--cli` builds that part only.
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildCli } from './build-cli.mjs';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const all = args.length === 0;

export async function buildRenderer() {
  const vite = await import('vite');
  await vite.build({ configFile: join(root, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
}

export async function buildElectron() {
  const esbuild = await import('esbuild');
  const common = {
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    sourcemap: 'linked',
    logLevel: 'warning',
    absWorkingDir: root,
  };
  // main/ is ESM and finds the project root from import.meta.url; in a CJS bundle that is rebuilt
  // from __filename (dist/electron/main.cjs → ../../ is still the project root).
  await esbuild.build({
    ...common,
    entryPoints: { main: 'electron/main.ts' },
    outExtension: { '.js': '.cjs' },
    outdir: 'dist/electron',
    // Node packages (native usb/serialport, vite) load from node_modules at run time.
    packages: 'external',
    define: { 'import.meta.url': '__flashlineImportMetaUrl' },
    banner: { js: "const __flashlineImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  });
  // The sandboxed preload may require only 'electron': bundle everything else into it.
  await esbuild.build({
    ...common,
    entryPoints: { preload: 'electron/preload.ts' },
    outExtension: { '.js': '.cjs' },
    outdir: 'dist/electron',
    external: ['electron'],
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const built = [];
  if (all || args.includes('--renderer')) {
    await buildRenderer();
    built.push('dist/renderer');
  }
  if (all || args.includes('--electron')) {
    await buildElectron();
    built.push('dist/electron');
  }
  if (all || args.includes('--cli')) {
    await buildCli();
    built.push('dist/cli');
  }
  process.stdout.write(`Built ${built.join(', ')}.\n`);
}
