/**
 * `npm run bench -- NAME [--json] [args…]`: runs bench/NAME.ts. Each benchmark measures Flashline against a
 * ceiling (a reference tool or an ideal) in the same run and prints ratios, never absolute pass/fail times.
 */
import { existsSync, readdirSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(here)
  .filter((f) => f.endsWith('.ts') && !['index.ts', 'reliability.ts'].includes(f) && !f.startsWith('_'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

const [name, ...rest] = process.argv.slice(2);
if (!name || name === '--help' || name === '-h') {
  process.stdout.write(
    `usage: npm run bench -- NAME [--json]\nbenchmarks: ${available.join(', ') || '(none yet)'}\n`,
  );
  process.exit(name ? 0 : 2);
}
const file = `${here}${name}.ts`;
if (!/^[a-z0-9-]+$/.test(name) || !existsSync(file)) {
  process.stderr.write(`unknown benchmark '${name}'; available: ${available.join(', ')}\n`);
  process.exit(2);
}
const mod = (await import(pathToFileURL(file).href)) as {
  run: (args: string[]) => Promise<number | undefined>;
};
process.exitCode = (await mod.run(rest)) ?? 0;
