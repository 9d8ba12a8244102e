import { useEffect, useState } from 'react';
import type { JobReport } from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import { formatDate, formatRate } from '../api/format.js';
import type { Outcome } from '../api/history.js';

export function HistoryScreen({ api, refreshKey }: { readonly api: Api; readonly refreshKey: number }) {
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
  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey is a reload trigger
  useEffect(() => {
    let live = true;
    api.client.jobs.history
      .query({ text, outcome })
      .then((v) => {
        if (!live) return;
        setView(v);
        setError(null);
      })
      .catch((err: unknown) => live && setError(errorMessage(err)));
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
          {view ? `${view.matched} of ${view.total} jobs` : 'Loading…'}
        </output>
      </div>
      <div className="panel filters">
        <label>
          Filter{' '}
          <input
            type="search"
            value={text}
            onChange={(e) => setText(e.currentTarget.value)}
            placeholder="serial, product, package, status"
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
      <table className="history" data-testid="history">
        <thead>
          <tr>
            <th scope="col">Ended</th>
            <th scope="col">Serial</th>
            <th scope="col">Product</th>
            <th scope="col">Package</th>
            <th scope="col">Status</th>
            <th scope="col">Rate</th>
          </tr>
        </thead>
        <tbody>
          {shown.map((r) => (
            <tr key={r.jobId} className={r.status === 0 ? 'row-ok' : 'row-bad'} data-testid="history-row">
              <td className="num">{formatDate(r.endedAt)}</td>
              <td>{r.device.serial ?? r.deviceId}</td>
              <td>{r.device.product ?? '—'}</td>
              <td>
                {r.package.id} {r.package.version}
              </td>
              <td title={r.remedy}>
                {r.status} {r.statusName}
              </td>
              <td className="num">{formatRate(r.rate)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {view?.nextCursor ? (
        <button type="button" onClick={showOlder} data-testid="history-more">
          Show older ({shown.length} of {view.matched} shown)
        </button>
      ) : null}
    </section>
  );
}
