#!/usr/bin/env node
// The `flashline` command as compiled JavaScript: esbuild bundles main/cli/index.ts into dist/cli/ (ESM, code
// splitting, so each sub-command stays a chunk of its own that loads only when it runs; zod and commander are
// bundled, every other package — native usb/serialport included — stays external and loads from node_modules).
// `npm install` runs this as the `prepare` step, `npm run build` runs it too, and bin/flashline.js runs it again
// whenever a source file changed since the last build, so nobody ever runs stale code.
//
// Every output file is named by a hash of its content and is never rewritten, so a rebuild (two at once
// included: tests start many CLIs in parallel) cannot change a file that a running process is about to load.
// dist/cli/build.json, replaced atomically and last, names the entry file and lists every source file the build
// read with its size and mtime: bin/flashline.js compares those to decide whether the build is current.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { basename, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
// Two levels below the project root, like main/common/: main/common/paths.ts finds the root (resources/,
// package.json) from its own module's URL, which in the bundle is a file in this folder.
export const CLI_DIST = join(root, 'dist', 'cli');
export const BUILD_INFO = 'build.json';
/** Outputs of earlier builds that no build references any more are removed once they are this old. */
const KEEP_OLD_OUTPUTS_MS = 24 * 60 * 60 * 1000;
const CLOCK_SLACK_MS = 1000;
/**
 * Packages bundled into dist/cli instead of loaded from node_modules: the ones every command loads at start-up,
 * where resolving and evaluating dozens of package files made up much of `flashline devices`' start. Every other
 * package stays external (native usb/serialport must; the rest load only in the commands that use them).
 * Their package.json is part of the build's inputs, so `npm install` of another version triggers a rebuild.
 */
const BUNDLED_PACKAGES = ['zod', 'commander'];

/** `zod`, `zod/v4`, `@scope/name/x` → the package name. */
function packageName(specifier) {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/**
 * esbuild plugin: zod's `z.locales` namespace holds its error messages in ~50 languages (a third of the bundled
 * code, compiled at every start); Flashline words its own messages and uses zod's default English only (nothing
 * reads `z.locales`), so the bundle keeps English alone.
 */
const zodEnglishOnly = {
  name: 'flashline-zod-english-only',
  setup(build) {
    build.onLoad({ filter: /[\\/]node_modules[\\/]zod[\\/]v4[\\/]locales[\\/]index\.js$/ }, () => ({
      contents: 'export { default as en } from "./en.js";\n',
      loader: 'js',
    }));
  },
};

/**
 * esbuild plugin: `import { z } from 'zod'` hands each module zod's whole namespace as one object, which a bundler
 * must keep whole (≈ 400 kB compiled at every start); `import * as z from 'zod'` is the same functions reached as
 * `z.object`, `z.string`, … (zod recommends it for bundles), and lets esbuild keep only those used. The sources
 * keep the named form (tsx runs them as they are); the bundle gets the namespace form.
 */
const zodNamespaceImport = {
  name: 'flashline-zod-namespace-import',
  setup(build) {
    build.onLoad({ filter: /[\\/](main|virtual-device)[\\/].*\.ts$/ }, async (args) => {
      const source = await readFile(args.path, 'utf8');
      if (!source.includes("import { z } from 'zod';")) return undefined;
      return {
        contents: source.replace(/^import \{ z \} from 'zod';$/m, "import * as z from 'zod';"),
        loader: 'ts',
      };
    });
  },
};

/** esbuild plugin: every bare import is external except the bundled packages (and their own imports). */
const externalPackages = {
  name: 'flashline-external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.importer.includes(`${sep}node_modules${sep}`)) return undefined;
      return BUNDLED_PACKAGES.includes(packageName(args.path))
        ? undefined
        : { path: args.path, external: true };
    });
  },
};

/** Write `data` to `path` so that a reader sees either nothing or the whole file. */
function writeAtomically(path, data) {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  writeFileSync(tmp, data);
  try {
    renameSync(tmp, path);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * The size and mtime of each source file the build read. A file changed while the build ran (or just before:
 * file-system clocks are coarse) is recorded with mtime 0, so the next run sees it as changed and rebuilds.
 */
function snapshot(paths, startedAt) {
  const now = Date.now();
  return paths.map((p) => {
    const s = statSync(join(root, p));
    // A date in the future is a skewed clock (an archive from another machine), not an edit: kept as it is, or
    // every run would rebuild.
    const suspect = s.mtimeMs > startedAt - CLOCK_SLACK_MS && s.mtimeMs <= now + CLOCK_SLACK_MS;
    return [p.split(sep).join('/'), suspect ? 0 : s.mtimeMs, s.size];
  });
}

/** Remove outputs of earlier builds that this one does not use, once they are old enough to be unused. */
function removeOldOutputs(keep) {
  const now = Date.now();
  for (const name of readdirSync(CLI_DIST)) {
    if (keep.has(name) || name === BUILD_INFO) continue;
    const path = join(CLI_DIST, name);
    try {
      if (now - statSync(path).mtimeMs > KEEP_OLD_OUTPUTS_MS) rmSync(path, { force: true });
    } catch {
      // Another build removed it first.
    }
  }
}

/**
 * Build the CLI into dist/cli and return the entry file's absolute path.
 * Throws esbuild's error (with file and line) when a source does not compile.
 */
export async function buildCli() {
  try {
    return await build();
  } catch (err) {
    // esbuild's message is "Build failed with 1 error:" and the details; one line with the place is enough.
    const first = err?.errors?.[0];
    if (first?.location) {
      const { file, line, column } = first.location;
      throw new Error(`${file}:${line}:${column}: ${first.text}`, { cause: err });
    }
    throw err;
  }
}

async function build() {
  const esbuild = await import('esbuild');
  const options = {
    absWorkingDir: root,
    entryPoints: { flashline: 'main/cli/index.ts' },
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    plugins: [externalPackages, zodEnglishOnly, zodNamespaceImport],
    // Bundled CommonJS packages (commander) call require() for Node's modules; ESM has none of its own.
    banner: {
      js: "import { createRequire as __flashlineCreateRequire } from 'node:module';\nconst require = __flashlineCreateRequire(import.meta.url);",
    },
    // Bundling renames clashing identifiers (commander's InvalidArgumentError and ours); keep `.name` of every
    // class and function as the sources have it, since error names reach messages and stack traces.
    keepNames: true,
    outdir: CLI_DIST,
    entryNames: '[name]-[hash]',
    chunkNames: '[name]-[hash]',
    // Stack traces map back to main/**.ts when FLASHLINE_DEBUG is set (bin/flashline.js enables source maps
    // then); the maps point at the sources instead of embedding them, which keeps dist/cli small.
    sourcemap: 'linked',
    sourcesContent: false,
    metafile: true,
    write: false,
    logLevel: 'silent',
  };
  const startedAt = Date.now();
  const result = await esbuild.build(options);
  mkdirSync(CLI_DIST, { recursive: true });
  const written = new Set();
  let entry;
  const now = new Date();
  for (const file of result.outputFiles) {
    written.add(basename(file.path));
    // Same name, same content: an earlier build's file is kept (a running process may be loading it) and
    // its mtime refreshed, so an output's age is the time since a build last used it (removeOldOutputs).
    if (existsSync(file.path)) utimesSync(file.path, now, now);
    else writeAtomically(file.path, file.contents);
  }
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    if (output.entryPoint === 'main/cli/index.ts') entry = basename(path);
  }
  const sources = [
    ...Object.keys(result.metafile.inputs).filter((p) => !p.includes('node_modules/')),
    ...BUNDLED_PACKAGES.map((name) => `node_modules/${name}/package.json`),
    // How the build is made is part of what it is: a change here or in the compiler settings rebuilds too.
    'scripts/build-cli.mjs',
    'tsconfig.json',
  ];
  const info = { entry, inputs: snapshot(sources.sort(), startedAt) };
  try {
    writeAtomically(join(CLI_DIST, BUILD_INFO), `${JSON.stringify(info)}\n`);
  } catch (err) {
    // Windows refuses to replace a file another process has open; that process's build is as current.
    if (err?.code !== 'EPERM' && err?.code !== 'EACCES') throw err;
  }
  removeOldOutputs(written);
  return join(CLI_DIST, entry);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const entry = await buildCli();
    process.stdout.write(`Built the flashline command: ${relative(root, entry)}\n`);
  } catch (err) {
    // `npm install` (prepare) must not fail on it (`npm run build` does): bin/flashline.js then compiles the
    // sources on load instead.
    const why = err instanceof Error ? err.message : String(err);
    process.stderr.write(
      `flashline: could not build the command (${why}); it compiles its sources on load.\n`,
    );
  }
}
