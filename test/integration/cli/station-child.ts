/**
 * `flashline station … --json` as a child process, driven through its API: once it prints its URL and
 * token, `drive` runs with a connected client; then the station gets SIGTERM and must exit by itself.
 */
import { connectStation, type StationClient } from '../station/trpc-ws-client.js';
import { type ChildOptions, type ChildRun, runFlashline } from './child.js';

export async function driveStation(
  args: readonly string[],
  options: Omit<ChildOptions, 'onSpawn'>,
  drive: (station: StationClient) => Promise<void>,
): Promise<{ run: ChildRun; problem: unknown }> {
  let problem: unknown;
  const run = await runFlashline(['station', '--port', '0', '--json', ...args], {
    ...options,
    onSpawn: (child) => {
      let out = '';
      let started = false;
      child.stdout?.on('data', (d: Buffer) => {
        out += d.toString();
        const line = out.split('\n').find((l) => l.startsWith('{'));
        if (!line || started) return;
        started = true;
        const { url, token } = JSON.parse(line) as { url: string; token: string };
        void (async () => {
          const station = connectStation(new URL(url).origin, token);
          try {
            await drive(station);
          } catch (err) {
            problem = err;
          } finally {
            await station.close();
            child.kill('SIGTERM');
          }
        })();
      });
    },
  });
  return { run, problem };
}
