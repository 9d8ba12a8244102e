import { useEffect, useState } from 'react';
import type { JobReport, StatusCodeInfo } from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import { formatDate, formatRate } from '../api/format.js';
import type { Outcome } from '../api/history.js';

/** A history row's status in words: the status table's message (the report's own message is in the tooltip). */
function statusLine(r: JobReport, codes: ReadonlyMap<number, StatusCodeInfo>): string {
  if (r.status === 0) return 'OK';
  return codes.get(r.status)?.message ?? r.message;
}

export function HistoryScreen({
  api,
  refreshKey,
  codes,
}: {
  readonly api: Api;
  readonly refreshKey: number;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
}) {
  // One page at a time from the service's index (jobs.history); "Show older" appends the next page.
  const [view, setView] = useState<{
    readonly reports: readonly JobReport[];
    readonly total: number;
    readonly matched: number;
    readonly nextCursor: number | null;
  } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [text, setText] = useState('');
  const [outcome, setOutcome] = useState<Outcome>('all');
  const [exporting, setExporting] = useState(false);
  const [exported, setExported] = useState<string | null>(null);
  // The service applies the filter (main/api/report-export.ts), the same one its exports use, so the file
  // holds exactly the rows shown. refreshKey reloads the list after each job end.
  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey is the trigger (a job ended), not an input
  useEffect(() => {
    let live = true;
    const load = () =>
      api.client.jobs.history
        .query({ text, outcome })
        .then((v) => {
          if (!live) return;
          setView(v);
          setError(null);
        })
        .catch((err: unknown) => live && setError(errorMessage(err)));
    // A job's report is stored before its end event is sent, so one read after each end finds it.
    void load();
    return () => {
      live = false;
    };
  }, [api, refreshKey, text, outcome]);
  const shown = view?.reports ?? [];
  const showOlder = () => {
    if (!view?.nextCursor) return;
    api.client.jobs.history
      .query({ text, outcome, cursor: view.nextCursor })
      .then((page) => setView({ ...page, reports: [...view.reports, ...page.reports] }))
      .catch((err: unknown) => setError(errorMessage(err)));
  };
  // The service makes the file (same filter as on screen); the desktop asks where to save it.
  const exportAs = (format: 'json' | 'csv') => {
    setExporting(true);
    setExported(null);
    api
      .exportHistory({ format, text, outcome })
      .then((message) => {
        setExported(message);
        setError(null);
      })
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setExporting(false));
  };
  return (
    <section aria-labelledby="history-heading">
      <div className="section-head">
        <h2 id="history-heading" tabIndex={-1}>
          History
        </h2>
        <output className="muted" aria-live="polite">
          {view ? (view.total === 0 ? 'No jobs yet' : `${view.matched} of ${view.total} jobs`) : 'Loading…'}
        </output>
      </div>
      <div className="panel filters">
        <label>
          Filter{' '}
          <input
            type="search"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            placeholder="Serial, product, package or status"
            data-testid="history-filter"
          />
        </label>
        <label>
          Outcome{' '}
          <select value={outcome} onChange={(e) => setOutcome(e.currentTarget.value as Outcome)}>
            <option value="all">All</option>
            <option value="ok">OK</option>
            <option value="failed">Failed</option>
          </select>
        </label>
        <button type="button" onClick={() => exportAs('json')} disabled={shown.length === 0 || exporting}>
          Export JSON
        </button>
        <button type="button" onClick={() => exportAs('csv')} disabled={shown.length === 0 || exporting}>
          Export CSV
        </button>
      </div>
      <output className="muted" data-testid="history-exported">
        {exported ?? ''}
      </output>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {shown.length > 0 ? (
        <table className="history" data-testid="history">
          <thead>
            <tr>
              <th scope="col">Ended</th>
              <th scope="col">Serial</th>
              <th scope="col">Product</th>
              <th scope="col">Package</th>
              <th scope="col">Status</th>
              <th scope="col" className="num">
                Rate
              </th>
            </tr>
          </thead>
          <tbody>
            {shown.map((r) => (
              <tr key={r.jobId} className={r.status === 0 ? 'row-ok' : 'row-bad'} data-testid="history-row">
                <td className="tabular">{formatDate(r.endedAt)}</td>
                <td>{r.device.serial ?? r.deviceId}</td>
                <td>{r.device.product ?? '—'}</td>
                <td>
                  {r.package.id} {r.package.version}
                </td>
                <td className="history-status" title={`${r.message} What to do: ${r.remedy}`}>
                  <strong className="tabular">{r.status}</strong> {statusLine(r, codes)}
                </td>
                <td className="num">{formatRate(r.rate)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      {view?.nextCursor ? (
        <button type="button" onClick={showOlder} data-testid="history-more">
          Show older ({shown.length} of {view.matched} shown)
        </button>
      ) : null}
      {view && shown.length === 0 ? (
        <div className="empty-state history-empty" data-testid="history-empty">
          {view.total === 0 ? (
            <>
              <h3>No jobs yet</h3>
              <p>
                Every finished job — passed, failed or stopped — is listed here with its status code, and can
                be exported as CSV or JSON.
              </p>
            </>
          ) : (
            <>
              <h3>No jobs match this filter</h3>
              <p>
                {view.total} job{view.total === 1 ? '' : 's'} in all. Clear the filter or choose another
                outcome.
              </p>
            </>
          )}
        </div>
      ) : null}
    </section>
  );
}
