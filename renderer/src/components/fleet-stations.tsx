import type { LiveSnapshot } from '../../../main/api/types.js';
import type { StationRow } from '../api/fleet.js';
import { formatDate } from '../api/format.js';

function onlineLabel(r: StationRow): string {
  if (r.online === null) return 'not on the live bus';
  if (r.online) return 'online';
  return r.reason === 'lost' ? 'offline (lost)' : 'offline';
}

/** Stations online/offline with their live devices; last job and jobs in 24 h from the database. */
export function FleetStations({
  rows,
  live,
}: {
  readonly rows: readonly StationRow[];
  readonly live: LiveSnapshot | null;
}) {
  if (rows.length === 0) {
    return (
      <p className="muted" data-testid="fleet-no-stations">
        No station has published or reported yet.
      </p>
    );
  }
  return (
    <table className="history fleet-stations" data-testid="fleet-stations">
      <thead>
        <tr>
          <th scope="col">Station</th>
          <th scope="col">State</th>
          <th scope="col">Live devices</th>
          <th scope="col">Last job</th>
          <th scope="col">Last seen by the database</th>
          <th scope="col" className="num">
            Jobs 24 h
          </th>
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => {
          const devices =
            live?.stations.find((s) => s.site === r.site && s.station === r.station)?.devices ?? [];
          return (
            <tr
              key={`${r.site}/${r.station}`}
              data-testid="fleet-station"
              data-station={r.station}
              data-online={r.online === null ? 'unknown' : String(r.online)}
            >
              <th scope="row">
                {r.station} <span className="muted">{r.site}</span>
              </th>
              <td>
                <span
                  className={`fleet-dot fleet-${r.online === null ? 'unknown' : r.online ? 'on' : 'off'}`}
                />
                {onlineLabel(r)}
                {r.role ? <span className="muted"> · {r.role}</span> : null}
              </td>
              <td>
                {devices.length === 0 ? (
                  <span className="muted">—</span>
                ) : (
                  <ul className="fleet-devices">
                    {devices.map((d) => (
                      <li key={d.deviceId} data-testid="fleet-device">
                        {d.state?.serial ?? d.deviceId}{' '}
                        <span className="muted">
                          {d.state?.job
                            ? `${d.state.job.stage}${d.progress && d.progress.bytesTotal > 0 ? ` ${Math.floor((100 * d.progress.bytesDone) / d.progress.bytesTotal)}%` : ''}`
                            : (d.state?.state ?? '')}
                          {d.lastResult
                            ? ` · last ${d.lastResult.status === 0 ? 'OK' : `failed ${d.lastResult.status}`}`
                            : ''}
                        </span>
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td className="tabular">{r.lastJobAt ? formatDate(r.lastJobAt) : '—'}</td>
              <td className="tabular">{r.lastSyncAt ? formatDate(r.lastSyncAt) : '—'}</td>
              <td className="num">{r.jobs24h ?? '—'}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
