import { useEffect, useState } from 'react';
import type { Catalog, CatalogDownload, StatusCodeInfo } from '../../../main/api/types.js';
import { type Api, errorData } from '../api/client.js';
import { formatBytes, formatDate, formatEta, formatRate } from '../api/format.js';
import { remedyFor } from '../api/status.js';

type CatalogView = Catalog & { readonly seenProducts: readonly string[] };

const downloadKey = (d: { readonly repoUrl: string; readonly name: string }) => `${d.repoUrl} ${d.name}`;

/** Live downloads: follow the event stream, then merge the service's list (events know more). */
function useDownloads(api: Api): ReadonlyMap<string, CatalogDownload> {
  const [downloads, setDownloads] = useState<ReadonlyMap<string, CatalogDownload>>(new Map());
  useEffect(() => {
    let live = true;
    const sub = api.client.repo.events.subscribe(undefined, {
      onStarted() {
        api.client.repo.downloads
          .query()
          .then((list) => {
            if (!live) return;
            setDownloads((m) => {
              const next = new Map(m);
              // As useJobs and useRescueJobs merge: an event already applied is newer than the snapshot.
              for (const d of list) if (!next.has(downloadKey(d))) next.set(downloadKey(d), d);
              return next;
            });
          })
          .catch(() => undefined);
      },
      onData: (d) => setDownloads((m) => new Map(m).set(downloadKey(d), d)),
    });
    return () => {
      live = false;
      sub.unsubscribe();
    };
  }, [api]);
  return downloads;
}

function DownloadState({
  d,
  codes,
}: {
  readonly d: CatalogDownload | undefined;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
}) {
  if (!d) return null;
  if (d.state === 'running') {
    const pct = d.bytesTotal > 0 ? Math.floor((d.bytesDone / d.bytesTotal) * 100) : 0;
    return (
      <span className="tabular" data-testid="catalog-progress">
        <progress max={100} value={pct} aria-label="Download progress" /> {pct}% · {formatRate(d.rate)} · ETA{' '}
        {formatEta(d.etaSeconds)}
      </span>
    );
  }
  if (d.state === 'done') return <span data-testid="catalog-done">In the package list</span>;
  return (
    <span className="error" role="alert" data-testid="catalog-failed">
      <strong className="tabular">{d.code}</strong> {d.message} What to do: {remedyFor(codes, d.code ?? 'x')}
    </span>
  );
}

/**
 * The Catalog: packages in the update repositories this station trusts, those for the devices it sees
 * first, each downloadable into the package cache (ranged and resumable, verified before it is kept).
 */
export function CatalogScreen({
  api,
  codes,
}: {
  readonly api: Api;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
}) {
  const [sources, setSources] = useState<readonly string[] | null>(null);
  const [repoUrl, setRepoUrl] = useState<string>('');
  const [catalog, setCatalog] = useState<CatalogView | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [showAll, setShowAll] = useState(false);
  const downloads = useDownloads(api);

  useEffect(() => {
    let live = true;
    api.client.repo.sources
      .query()
      .then((list) => {
        if (!live) return;
        setSources(list);
        setRepoUrl((u) => u || list[0] || '');
      })
      .catch((err: unknown) => live && setError(errorData(err).message));
    return () => {
      live = false;
    };
  }, [api]);

  const finished = [...downloads.values()].filter((d) => d.state === 'done').length;
  // biome-ignore lint/correctness/useExhaustiveDependencies: `finished` is the trigger (a download ended: refresh the marks)
  useEffect(() => {
    if (!repoUrl) return;
    let live = true;
    setError(null);
    api.client.repo.catalog
      .mutate({ repoUrl })
      .then((c) => live && setCatalog(c))
      .catch((err: unknown) => {
        if (!live) return;
        const e = errorData(err);
        setCatalog(null);
        setError(`${typeof e.code === 'number' ? `${e.code}: ` : ''}${e.message}`);
      });
    return () => {
      live = false;
    };
  }, [api, repoUrl, finished]);

  const seen = new Set(catalog?.seenProducts ?? []);
  const entries = (catalog?.entries ?? []).filter(
    (e) => showAll || seen.size === 0 || e.package.products.some((p) => seen.has(p)),
  );
  return (
    <section aria-labelledby="catalog-heading">
      <div className="section-head">
        <h2 id="catalog-heading" tabIndex={-1}>
          Catalog
        </h2>
        {catalog ? (
          <output className="muted" data-testid="catalog-expires">
            Repository metadata valid until {formatDate(catalog.expires)}
          </output>
        ) : null}
      </div>
      {sources && sources.length === 0 ? (
        <div className="empty-state" data-testid="catalog-no-source">
          <p>This station trusts no update repository yet.</p>
          <p className="muted">
            Install one once with <code>flashline sync --repo URL --root root.json</code> (the root.json comes
            from the repository operator); it is remembered.
          </p>
        </div>
      ) : null}
      {sources && sources.length > 0 ? (
        <div className="panel filters">
          <label>
            Repository{' '}
            <select value={repoUrl} onChange={(e) => setRepoUrl(e.target.value)} data-testid="catalog-source">
              {sources.map((s) => (
                <option key={s} value={s}>
                  {s}
                </option>
              ))}
            </select>
          </label>
          {seen.size > 0 ? (
            <label>
              <input type="checkbox" checked={showAll} onChange={(e) => setShowAll(e.target.checked)} /> Show
              packages for other products too
            </label>
          ) : null}
        </div>
      ) : null}
      {error ? (
        <p className="error" role="alert" data-testid="catalog-error">
          {error}
        </p>
      ) : null}
      {catalog ? (
        <table className="history" data-testid="catalog">
          <thead>
            <tr>
              <th scope="col">Package</th>
              <th scope="col">Products</th>
              <th scope="col">Version</th>
              <th scope="col" className="num">
                Size
              </th>
              <th scope="col">State</th>
            </tr>
          </thead>
          <tbody>
            {entries.map((e) => {
              const d = downloads.get(downloadKey({ repoUrl: catalog.repoUrl, name: e.name }));
              return (
                <tr key={e.name} data-testid={`catalog-row-${e.name}`}>
                  <td>{e.name}</td>
                  <td>{e.package.products.join(', ')}</td>
                  <td className="tabular">
                    {e.package.version} (rollback {e.package.rollbackIndex})
                  </td>
                  <td className="num">{formatBytes(e.length)}</td>
                  <td>
                    {d ? (
                      <DownloadState d={d} codes={codes} />
                    ) : e.cached ? (
                      <span data-testid="catalog-cached">Downloaded</span>
                    ) : (
                      <button
                        type="button"
                        data-testid={`catalog-download-${e.name}`}
                        onClick={() => {
                          api.client.repo.download
                            .mutate({ repoUrl: catalog.repoUrl, name: e.name })
                            .catch((err: unknown) => setError(errorData(err).message));
                        }}
                      >
                        Download
                      </button>
                    )}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      ) : null}
      {catalog && entries.length === 0 ? (
        <p className="muted" data-testid="catalog-empty">
          No package in this repository for the devices connected now.
        </p>
      ) : null}
    </section>
  );
}
