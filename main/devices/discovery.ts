/**
 * Run discovery sources into a registry. Sources start in parallel; one that cannot work (no USB access,
 * serial listing failed) becomes a problem line, never a crash, and never delays the others.
 */
import type { DeviceRegistry } from './registry.js';
import type { DeviceSink, DeviceSource } from './source.js';

export interface Discovery {
  /** One line per source that could not start, e.g. "usb: no USB access (…)". */
  readonly problems: readonly string[];
  /** Resolves when every source's initial identification has finished. */
  settled(): Promise<void>;
  /** Stop all sources (their devices are removed). */
  stop(): void;
}

export async function startDiscovery(
  registry: DeviceRegistry,
  sources: readonly DeviceSource[],
  opts: { signal?: AbortSignal } = {},
): Promise<Discovery> {
  const controller = new AbortController();
  opts.signal?.addEventListener('abort', () => controller.abort(), { once: true });
  const sink: DeviceSink = {
    upsert: (d, probe, control) => registry.upsert(d, probe, control),
    remove: (id) => registry.remove(id),
    get: (id) => registry.get(id),
  };
  const problems: string[] = [];
  await Promise.all(
    sources.map(async (s) => {
      try {
        await s.start(sink, controller.signal);
      } catch (err) {
        problems.push(`${s.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }),
  );
  return {
    problems,
    async settled() {
      await Promise.allSettled(sources.map((s) => s.settled?.()));
    },
    stop: () => controller.abort(),
  };
}
