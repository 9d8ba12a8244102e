#!/usr/bin/env node
// The `flashline` command. It runs the compiled CLI in dist/cli/ (scripts/build-cli.mjs, built by `npm install`).
// Never stale: when a source file the build read has changed since (an edit, a git checkout), it rebuilds first
// (about a second, once). When no build can be made — esbuild missing, a read-only install, a source that does
// not compile — tsx compiles the TypeScript on load instead, as the command always did: slower, never stale.
// FLASHLINE_FROM_SOURCE=1 takes that path on purpose; FLASHLINE_DEBUG=1 says why a build was not used.
import { readFileSync, statSync } from 'node:fs';
import module from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('../', import.meta.url));
const dist = `${root}dist/cli/`;
const debug = Boolean(process.env.FLASHLINE_DEBUG);

function note(line) {
  if (debug) process.stderr.write(`flashline: ${line}\n`);
}

/** The current build's entry, or undefined when there is none or a file it was built from has changed. */
function currentBuild() {
  try {
    const info = JSON.parse(readFileSync(`${dist}build.json`, 'utf8'));
    // One stat per source file (a few hundred, a few milliseconds): size and mtime as the build recorded them.
    for (const [path, mtimeMs, size] of info.inputs) {
      // Plain string paths: converting a URL per file cost more than the stat itself.
      const now = statSync(root + path, { throwIfNoEntry: false });
      if (now?.mtimeMs !== mtimeMs || now.size !== size) {
        note(`${path} changed since the last build; rebuilding`);
        return undefined;
      }
    }
    return pathToFileURL(dist + info.entry);
  } catch (err) {
    note(`no usable build in dist/cli (${err.message}); building`);
    return undefined;
  }
}

async function rebuild() {
  try {
    const { buildCli } = await import('../scripts/build-cli.mjs');
    return pathToFileURL(await buildCli());
  } catch (err) {
    note(
      `could not build the command (${err.message.split('\n')[0]}); compiling the sources on load instead`,
    );
    return undefined;
  }
}

const entry = process.env.FLASHLINE_FROM_SOURCE ? undefined : (currentBuild() ?? (await rebuild()));
if (entry) {
  // Stack traces name main/**/*.ts lines only when asked: mapping them costs start-up time.
  if (debug) process.setSourceMapsEnabled(true);
  // Node 22.1+ keeps V8's compiled code between runs (keyed by the source's content, so never stale); most of
  // a command's start is compiling its modules. Node 20 has no such cache and skips this.
  module.enableCompileCache?.();
  await import(entry.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  await import('../main/cli/index.ts');
}
