import { type FormEvent, useState } from 'react';
import type { FleetJob, StatusCodeInfo } from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import {
  EMPTY_SEARCH,
  type SearchForm,
  SINCE_CHOICES,
  type SinceChoice,
  searchFilter,
} from '../api/fleet.js';
import { FleetJobTable } from './fleet-jobs.js';

const SINCE_LABELS: Readonly<Record<SinceChoice, string>> = {
  '1h': 'Last hour',
  today: 'Today',
  '24h': 'Last 24 hours',
  '7d': 'Last 7 days',
  '30d': 'Last 30 days',
};

const PAGE = 50;

/** A search across every station's jobs (e.g. "product X failed with 4x today"), one page at a time. */
export function FleetSearch({
  api,
  stations,
  codes,
}: {
  readonly api: Api;
  readonly stations: readonly string[];
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
}) {
  const [form, setForm] = useState<SearchForm>(EMPTY_SEARCH);
  const [result, setResult] = useState<{
    jobs: FleetJob[];
    nextCursor: string | null;
    filter: object;
  } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const set = (patch: Partial<SearchForm>) => setForm((f) => ({ ...f, ...patch }));
  const run = (filter: ReturnType<typeof searchFilter>, cursor: string | null, append: FleetJob[]) => {
    setBusy(true);
    api.client.fleet.search
      .query({ filter, cursor, limit: PAGE })
      .then((page) => {
        setResult({ jobs: [...append, ...page.jobs], nextCursor: page.nextCursor, filter });
        setError(null);
      })
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => setBusy(false));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    run(searchFilter(form, new Date()), null, []);
  };
  return (
    <div>
      <form className="panel filters" onSubmit={submit} data-testid="fleet-search">
        <label>
          Text{' '}
          <input
            type="search"
            value={form.text}
            onChange={(e) => set({ text: e.currentTarget.value })}
            placeholder="Serial or job id, product, station"
            data-testid="fleet-search-text"
          />
        </label>
        <label>
          Product{' '}
          <input
            type="text"
            className="fleet-short"
            value={form.product}
            onChange={(e) => set({ product: e.currentTarget.value })}
            data-testid="fleet-search-product"
          />
        </label>
        <label>
          Status{' '}
          <input
            type="text"
            className="fleet-status"
            value={form.status}
            onChange={(e) => set({ status: e.currentTarget.value })}
            placeholder="failed, 4x, 42, ok"
            data-testid="fleet-search-status"
          />
        </label>
        <label>
          Station{' '}
          <select
            value={form.station}
            onChange={(e) => set({ station: e.currentTarget.value })}
            data-testid="fleet-search-station"
          >
            <option value="">All</option>
            {stations.map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Since{' '}
          <select
            value={form.since}
            onChange={(e) => set({ since: e.currentTarget.value as SinceChoice })}
            data-testid="fleet-search-since"
          >
            {SINCE_CHOICES.map((c) => (
              <option key={c} value={c}>
                {SINCE_LABELS[c]}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" disabled={busy} data-testid="fleet-search-go">
          Search
        </button>
      </form>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      {result ? (
        <output className="muted" aria-live="polite" data-testid="fleet-search-count">
          {result.jobs.length === 0
            ? 'No jobs match.'
            : `${result.jobs.length}${result.nextCursor ? '+' : ''} job${result.jobs.length === 1 ? '' : 's'}`}
        </output>
      ) : null}
      {result && result.jobs.length > 0 ? (
        <FleetJobTable jobs={result.jobs} codes={codes} testId="fleet-search-results" />
      ) : null}
      {result?.nextCursor ? (
        <button
          type="button"
          disabled={busy}
          onClick={() =>
            run(result.filter as ReturnType<typeof searchFilter>, result.nextCursor, result.jobs)
          }
          data-testid="fleet-search-more"
        >
          Show older
        </button>
      ) : null}
    </div>
  );
}
