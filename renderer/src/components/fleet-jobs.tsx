import type { FleetJob, StatusCodeInfo } from '../../../main/api/types.js';
import { formatDate } from '../api/format.js';

/** Jobs from the central history (every station), newest first: the last failures and search results. */
export function FleetJobTable({
  jobs,
  codes,
  testId,
}: {
  readonly jobs: readonly FleetJob[];
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
  readonly testId: string;
}) {
  return (
    <table className="history" data-testid={testId}>
      <thead>
        <tr>
          <th scope="col">Ended</th>
          <th scope="col">Station</th>
          <th scope="col">Serial</th>
          <th scope="col">Product</th>
          <th scope="col">Package</th>
          <th scope="col">Status</th>
        </tr>
      </thead>
      <tbody>
        {jobs.map((j) => (
          <tr
            key={j.jobId}
            className={j.status === 0 ? 'row-ok' : 'row-bad'}
            data-testid={`${testId}-row`}
            data-serial={j.serial ?? ''}
          >
            <td className="tabular">{formatDate(j.endedAt)}</td>
            <td>{j.station}</td>
            <td>{j.serial ?? j.deviceId}</td>
            <td>{j.product ?? '—'}</td>
            <td>
              {j.packageId} {j.packageVersion}
            </td>
            <td
              className="history-status"
              title={`${j.message}${codes.get(j.status) ? ` What to do: ${codes.get(j.status)?.remedy}` : ''}`}
            >
              <strong className="tabular">{j.status}</strong>{' '}
              {j.status === 0 ? 'OK' : (codes.get(j.status)?.message ?? j.statusName)}
              {j.duplicateCheck === 'duplicate' ? ' · duplicate unit' : ''}
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
