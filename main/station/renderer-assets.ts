/**
 * Locates the built renderer (dist/renderer). From a fresh clone it does not exist yet, and after a
 * `git pull` it may be older than the sources, so station mode (re)builds it with Vite (a devDependency)
 * rather than failing or serving a stale UI. An installed build ships dist/ without renderer/ sources, so
 * it is never rebuilt.
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { FlashlineError } from '../common/errors.js';
import { projectRoot } from '../common/paths.js';

export const rendererDist: string = join(projectRoot, 'dist', 'renderer');
const rendererSources = join(projectRoot, 'renderer');

function newestMtime(dir: string): number {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return 0;
  }
  let newest = 0;
  for (const entry of entries) {
    if (entry === 'node_modules') continue;
    const p = join(dir, entry);
    const s = statSync(p);
    newest = Math.max(newest, s.isDirectory() ? newestMtime(p) : s.mtimeMs);
  }
  return newest;
}

function builtAt(): number {
  try {
    return statSync(join(rendererDist, 'index.html')).mtimeMs;
  } catch {
    return 0;
  }
}

export async function ensureRendererBuilt(log: (line: string) => void): Promise<string> {
  const built = builtAt();
  if (built > 0 && built >= newestMtime(rendererSources)) return rendererDist;
  log(
    built > 0
      ? 'Rebuilding the user interface (its sources changed)…'
      : 'Building the user interface (first run only)…',
  );
  try {
    const vite = await import('vite');
    await vite.build({ configFile: join(rendererSources, 'vite.config.ts'), logLevel: 'warn' });
  } catch (err) {
    throw new FlashlineError(
      'ui_not_built',
      `The user interface is not built and could not be built here (${err instanceof Error ? err.message : String(err)}). Run 'npm run build' and retry.`,
    );
  }
  return rendererDist;
}
