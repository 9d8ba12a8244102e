/** Start `flashline virtual-device … --json` as a child and read the devices it prints (first stdout line). */
import { type ChildProcessByStdio, spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';

export const FLASHLINE_BIN = join(import.meta.dirname, '../../../bin/flashline.js');

export async function startVirtualDeviceCli<Row>(
  t: { after: (fn: () => void) => void },
  args: readonly string[],
): Promise<{ child: ChildProcessByStdio<null, Readable, Readable>; rows: Row[] }> {
  const child = spawn(process.execPath, [FLASHLINE_BIN, 'virtual-device', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const lines = createInterface({ input: child.stdout });
  const [first] = (await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(() => {
      throw new Error('virtual-device exited early');
    }),
  ])) as [string];
  return { child, rows: JSON.parse(first) as Row[] };
}
