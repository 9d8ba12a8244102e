/**
 * The station's fleet settings, `<home>/fleet.json` (schema and credential rules in contract.ts). A missing
 * file means no fleet; a file that does not validate is refused with what is wrong, never half-used.
 */
import { promises as fs } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { writeJsonAtomic } from '../common/atomic-write.js';
import { FlashlineError } from '../common/errors.js';
import { type FleetConfig, fleetConfigSchema } from './contract.js';
import { NAME_PATTERN } from './live/topics.js';

/** The host name as a station name (one topic level): what `fleet init` and the live bus default to. */
export function defaultStationName(): string {
  const name = hostname()
    .replace(/[^A-Za-z0-9._-]/g, '-')
    .replace(/^[^A-Za-z0-9]+/, '');
  return NAME_PATTERN.test(name) ? name : 'station';
}

export function fleetConfigPath(home: string): string {
  return join(home, 'fleet.json');
}

/** The fleet settings of a Flashline home, or undefined when this station is not part of a fleet. */
export async function readFleetConfig(home: string): Promise<FleetConfig | undefined> {
  const path = fleetConfigPath(home);
  let text: string;
  try {
    text = await fs.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new FlashlineError('bad_config', `Cannot read ${path}: ${(err as Error).message}.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new FlashlineError(
      'bad_config',
      `${path} is not JSON; run 'flashline fleet init' again to rewrite it.`,
    );
  }
  const parsed = fleetConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new FlashlineError(
      'bad_config',
      `${path}: ${issue?.path.join('.') || 'file'}: ${issue?.message ?? 'invalid'}; run 'flashline fleet init' again to rewrite it.`,
    );
  }
  return parsed.data;
}

/** Write the settings atomically with mode 0600 (they name the database and broker). */
export async function writeFleetConfig(home: string, config: FleetConfig): Promise<void> {
  await fs.mkdir(home, { recursive: true });
  await writeJsonAtomic(fleetConfigPath(home), fleetConfigSchema.parse(config), { mode: 0o600 });
}
