import { useEffect, useState } from 'react';
import type { FleetOverview, LiveSnapshot } from '../../main/api/types.js';
import { type Api, errorMessage } from './api/client.js';

/** How often the remembered part (database) is read again while the fleet view is open. */
export const FLEET_REFRESH_MS = 10_000;

/** The live bus as the station's dashboard holds it, pushed on every change. */
export function useLiveFleet(api: Api): {
  readonly live: LiveSnapshot | null;
  readonly error: string | null;
} {
  const [state, setState] = useState<{ live: LiveSnapshot | null; error: string | null }>({
    live: null,
    error: null,
  });
  useEffect(() => {
    const sub = api.client.fleet.live.subscribe(undefined, {
      onData: (live) => setState({ live, error: null }),
      onError: (err) => setState((s) => ({ ...s, error: errorMessage(err) })),
    });
    return () => sub.unsubscribe();
  }, [api]);
  return state;
}

/** A tick every FLEET_REFRESH_MS (and one per finished job seen live), to read the history again. */
export function useRefreshTick(live: LiveSnapshot | null): number {
  const [tick, setTick] = useState(0);
  const results = live?.stations.flatMap((s) => s.devices.map((d) => d.lastResult?.jobId ?? '')).join(',');
  // biome-ignore lint/correctness/useExhaustiveDependencies: results is the trigger (a job ended somewhere)
  useEffect(() => setTick((t) => t + 1), [results]);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), FLEET_REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  return tick;
}

export function useFleetOverview(api: Api, tick: number): FleetOverview | null {
  const [overview, setOverview] = useState<FleetOverview | null>(null);
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick is the trigger, not an input
  useEffect(() => {
    let live = true;
    api.client.fleet.overview
      .query()
      .then((o) => live && setOverview(o))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api, tick]);
  return overview;
}
