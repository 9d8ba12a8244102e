/** Run `bin/flashline.js` from the project root and collect its exit status and output (CLI argument tests). */
import { spawnSync } from 'node:child_process';

const root = new URL('../../../', import.meta.url).pathname;

export function flashline(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['bin/flashline.js', ...args], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
