/**
 * Locates the built renderer (dist/renderer). From a fresh clone it does not exist yet, so station mode
 * builds it once with Vite (a devDependency) rather than failing; an installed build ships it prebuilt.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FlashlineError } from '../common/errors.js';
import { projectRoot } from '../common/paths.js';

export const rendererDist: string = join(projectRoot, 'dist', 'renderer');

export async function ensureRendererBuilt(log: (line: string) => void): Promise<string> {
  if (existsSync(join(rendererDist, 'index.html'))) return rendererDist;
  log('Building the user interface (first run only)…');
  try {
    const vite = await import('vite');
    await vite.build({ configFile: join(projectRoot, 'renderer', 'vite.config.ts'), logLevel: 'warn' });
  } catch (err) {
    throw new FlashlineError(
      'ui_not_built',
      `The user interface is not built and could not be built here (${err instanceof Error ? err.message : String(err)}). Run 'npm run build' and retry.`,
    );
  }
  return rendererDist;
}
