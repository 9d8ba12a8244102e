/**
 * The fleet view (station mode and desktop): stations online/offline with their live devices (MQTT), units
 * per hour per line over time and pass/fail by code, the last failures with serials, and a search across
 * every station's jobs — history always from the central database through the API, never from the bus.
 */
import { useEffect, useMemo, useState } from 'react';
import type { FleetJob, FleetStats, StatusCodeInfo } from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import { stationRows, throughput } from '../api/fleet.js';
import { useFleetOverview, useLiveFleet, useRefreshTick } from '../use-fleet.js';
import { ByCodeTable, ThroughputChart } from './fleet-charts.js';
import { FleetJobTable } from './fleet-jobs.js';
import { FleetRolloutView } from './fleet-rollout.js';
import { FleetSearch } from './fleet-search.js';
import { FleetStations } from './fleet-stations.js';
import './fleet.css';

const WINDOWS = [
  { key: '1h', label: 'Last hour, per 5 minutes', hours: 1, bucket: 5 },
  { key: '24h', label: 'Last 24 hours, per hour', hours: 24, bucket: 60 },
  { key: '7d', label: 'Last 7 days, per 6 hours', hours: 24 * 7, bucket: 360 },
] as const;
type WindowKey = (typeof WINDOWS)[number]['key'];

export function FleetScreen({
  api,
  codes,
}: {
  readonly api: Api;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
}) {
  const { live, error: liveError } = useLiveFleet(api);
  const tick = useRefreshTick(live);
  const overview = useFleetOverview(api, tick);
  const [windowKey, setWindowKey] = useState<WindowKey>('1h');
  const [stats, setStats] = useState<{ stats: FleetStats; at: number } | null>(null);
  const [failures, setFailures] = useState<FleetJob[]>([]);
  const [error, setError] = useState<string | null>(null);
  const history = overview?.history.configured ?? false;
  const win = WINDOWS.find((w) => w.key === windowKey) ?? WINDOWS[0];
  // biome-ignore lint/correctness/useExhaustiveDependencies: tick is the trigger (time passed, a job ended)
  useEffect(() => {
    if (!history) return;
    let current = true;
    const at = Date.now();
    Promise.all([
      api.client.fleet.stats.query({ sinceHours: win.hours, bucketMinutes: win.bucket }),
      api.client.fleet.lastFailures.query({ n: 10 }),
    ])
      .then(([s, f]) => {
        if (!current) return;
        setStats({ stats: s, at });
        setFailures(f);
        setError(null);
      })
      .catch((err: unknown) => current && setError(errorMessage(err)));
    return () => {
      current = false;
    };
  }, [api, history, tick, win]);
  const rows = useMemo(() => stationRows(live, overview?.stations ?? []), [live, overview]);
  const series = useMemo(
    () => (stats ? throughput(stats.stats, win.bucket, stats.at - win.hours * 3600_000, stats.at) : null),
    [stats, win],
  );
  const online = rows.filter((r) => r.online === true).length;
  return (
    <section aria-labelledby="fleet-heading">
      <div className="section-head">
        <h2 id="fleet-heading" tabIndex={-1}>
          Fleet
        </h2>
        <output className="muted" aria-live="polite" data-testid="fleet-summary">
          {`${online} of ${rows.length} station${rows.length === 1 ? '' : 's'} online`}
          {overview?.live.configured
            ? ` · live bus ${overview.live.connected ? 'connected' : 'not connected'} (${overview.live.broker ?? ''})`
            : ''}
        </output>
      </div>
      {overview && !overview.live.configured && !history ? (
        <div className="empty-state" data-testid="fleet-not-configured">
          <h3>This station is not part of a fleet</h3>
          <p>
            Run <code>flashline fleet init --db postgres://… --mqtt mqtt://…</code> for this station's home
            and restart it, or start it with <code>--embed-broker 1883</code> for a single-line dashboard.
          </p>
        </div>
      ) : null}
      {liveError || error || overview?.history.problem ? (
        <p className="error" role="alert">
          {liveError ?? error ?? `Central history: ${overview?.history.problem}`}
        </p>
      ) : null}
      <h3>Stations</h3>
      <FleetStations rows={rows} live={live} />
      <FleetRolloutView api={api} codes={codes} />
      {history ? (
        <>
          <div className="section-head">
            <h3>Units per hour</h3>
            <select
              value={windowKey}
              onChange={(e) => setWindowKey(e.currentTarget.value as WindowKey)}
              aria-label="Time window"
              data-testid="fleet-window"
            >
              {WINDOWS.map((w) => (
                <option key={w.key} value={w.key}>
                  {w.label}
                </option>
              ))}
            </select>
          </div>
          {series && series.stations.length > 0 ? <ThroughputChart series={series} /> : null}
          <h3>Pass/fail by code</h3>
          {stats ? <ByCodeTable stats={stats.stats} codes={codes} /> : null}
          <h3>Last failures</h3>
          {failures.length > 0 ? (
            <FleetJobTable jobs={failures} codes={codes} testId="fleet-failures" />
          ) : (
            <p className="muted">No failures.</p>
          )}
          <h3>Search all stations</h3>
          <FleetSearch api={api} stations={rows.map((r) => r.station)} codes={codes} />
        </>
      ) : overview?.live.configured ? (
        <p className="muted" data-testid="fleet-no-history">
          Throughput, failures and search need the central database:{' '}
          <code>flashline fleet init --db postgres://…</code>.
        </p>
      ) : null}
    </section>
  );
}
