/**
 * The rollout view (inside the fleet screen): devices updating themselves over the air as their reports
 * arrive on the bus, and per package from the central history how many devices have it, are updating, failed
 * by code, beside the stations' jobs with it. Read through the API every few seconds while shown.
 */
import { useEffect, useState } from 'react';
import type { CodeCount, FleetRollout, OtaAttempt, StatusCodeInfo } from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import { formatDate } from '../api/format.js';

/** How often the view asks again (reports arrive about once per phase per device). */
export const ROLLOUT_REFRESH_MS = 2000;

function useRollout(api: Api): { readonly data: FleetRollout | null; readonly error: string | null } {
  const [state, setState] = useState<{ data: FleetRollout | null; error: string | null }>({
    data: null,
    error: null,
  });
  useEffect(() => {
    let current = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    // One request at a time: the next is scheduled when this one has answered.
    const read = () => {
      api.client.fleet.rollout
        .query({ limit: 50 })
        .then((data) => current && setState({ data, error: null }))
        .catch((err: unknown) => current && setState((s) => ({ ...s, error: errorMessage(err) })))
        .finally(() => {
          if (current) timer = setTimeout(read, ROLLOUT_REFRESH_MS);
        });
    };
    read();
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [api]);
  return state;
}

function codeList(failed: readonly CodeCount[]): string {
  return failed.length === 0 ? '—' : failed.map((c) => `${c.status} ×${c.count}`).join(', ');
}

function codeTitle(failed: readonly CodeCount[], codes: ReadonlyMap<number, StatusCodeInfo>): string {
  return failed.map((c) => `${c.status}: ${codes.get(c.status)?.message ?? c.statusName}`).join('\n');
}

function attemptState(d: OtaAttempt, codes: ReadonlyMap<number, StatusCodeInfo>): string {
  if (d.status !== undefined && (d.phase === 'done' || d.phase === 'failed'))
    return d.status === 0 ? 'OK' : (codes.get(d.status)?.message ?? d.statusName ?? d.phase);
  const percent = d.bytesTotal > 0 ? ` ${Math.floor((100 * d.bytesDone) / d.bytesTotal)}%` : '';
  return `${d.phase}${d.phase === 'downloading' ? percent : ''}`;
}

export function FleetRolloutView({
  api,
  codes,
}: {
  readonly api: Api;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
}) {
  const { data, error } = useRollout(api);
  const live = data?.live;
  return (
    <div data-testid="rollout">
      <h3>Rollout</h3>
      {error || data?.problem ? (
        <p className="error" role="alert">
          {error ?? `Central history: ${data?.problem}`}
        </p>
      ) : null}
      {live ? (
        <p className="muted" data-testid="rollout-counts">
          {`OTA reports: ${live.received} received, ${live.storing ? `${live.stored} stored` : 'not stored (no fleet database)'}, ${live.dropped} dropped`}
          {live.lastDrop ? ` (last: ${live.lastDrop})` : ''}
          {live.waiting > 0 ? `, ${live.waiting} waiting for the database` : ''}
        </p>
      ) : data ? (
        <p className="muted">Over-the-air reports need a broker: fleet.json's, --mqtt or --embed-broker.</p>
      ) : null}
      <h4>
        Devices updating over the air
        {live && live.devicesKnown > live.devices.length
          ? ` (the newest ${live.devices.length} of ${live.devicesKnown})`
          : ''}
      </h4>
      {live && live.devices.length > 0 ? (
        <table className="history" data-testid="rollout-devices">
          <thead>
            <tr>
              <th scope="col">Device</th>
              <th scope="col">Product</th>
              <th scope="col">Package</th>
              <th scope="col">Status</th>
              <th scope="col">Reported</th>
            </tr>
          </thead>
          <tbody>
            {live.devices.map((d) => (
              <tr
                key={`${d.site}/${d.serial}`}
                className={d.status === undefined ? '' : d.status === 0 ? 'row-ok' : 'row-bad'}
                data-testid="rollout-device"
                data-serial={d.serial}
                data-phase={d.phase}
                data-status={d.status ?? ''}
              >
                <th scope="row">
                  {d.serial} <span className="muted">{d.site}</span>
                </th>
                <td>{d.product}</td>
                <td>
                  {d.packageId} {d.fromVersion ? `${d.fromVersion} → ` : ''}
                  {d.packageVersion}
                </td>
                <td className="history-status" title={d.message ?? ''}>
                  {d.status !== undefined ? <strong className="tabular">{d.status} </strong> : null}
                  {attemptState(d, codes)}
                </td>
                <td className="tabular">{formatDate(d.at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted">No device has reported an over-the-air update yet.</p>
      )}
      <h4>Per package</h4>
      {data?.packages && data.packages.length > 0 ? (
        <table className="history" data-testid="rollout-packages">
          <thead>
            <tr>
              <th scope="col">Package</th>
              <th scope="col" className="num">
                Devices with it
              </th>
              <th scope="col" className="num">
                Updating
              </th>
              <th scope="col">Devices failed (code ×n)</th>
              <th scope="col" className="num">
                Stations
              </th>
              <th scope="col" className="num">
                Jobs passed
              </th>
              <th scope="col">Jobs failed (code ×n)</th>
            </tr>
          </thead>
          <tbody>
            {data.packages.map((p) => (
              <tr
                key={`${p.packageId}\u0000${p.packageVersion}`}
                data-testid="rollout-package"
                data-package={p.packageId}
                data-version={p.packageVersion}
                data-installed={p.devices.installed}
                data-updating={p.devices.inProgress}
                data-device-failed={codeList(p.devices.failed)}
                data-jobs-passed={p.stations.passed}
              >
                <th scope="row">
                  {p.packageId} {p.packageVersion}
                </th>
                <td className="num">{p.devices.installed}</td>
                <td className="num">{p.devices.inProgress}</td>
                <td className="tabular" title={codeTitle(p.devices.failed, codes)}>
                  {codeList(p.devices.failed)}
                </td>
                <td className="num">{p.stations.stations}</td>
                <td className="num">{p.stations.passed}</td>
                <td className="tabular" title={codeTitle(p.stations.failed, codes)}>
                  {codeList(p.stations.failed)}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : data?.packages ? (
        <p className="muted">No package has been installed over the air or flashed by a station yet.</p>
      ) : (
        <p className="muted" data-testid="rollout-no-history">
          The rollout per package needs the central database:{' '}
          <code>flashline fleet init --db postgres://…</code>.
        </p>
      )}
    </div>
  );
}
