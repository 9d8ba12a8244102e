/**
 * Where Flashline keeps its state (journal, reports, trust store, station counters, cache).
 * FLASHLINE_HOME overrides everything, so tests and factory stations can choose a directory.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export function flashlineHome(env: NodeJS.ProcessEnv = process.env): string {
  if (env.FLASHLINE_HOME) return env.FLASHLINE_HOME;
  if (process.platform === 'win32' && env.APPDATA) return join(env.APPDATA, 'Flashline');
  if (process.platform === 'darwin') return join(homedir(), 'Library', 'Application Support', 'Flashline');
  return join(env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'flashline');
}

/** The project root (where package.json, resources/ and dist/ live). */
export const projectRoot: string = fileURLToPath(new URL('../../', import.meta.url));

export const resourcesDir: string = join(projectRoot, 'resources');
