import { type FormEvent, useEffect, useState } from 'react';
import type { DeviceInfo, PackageView, StatusCodeInfo } from '../../../main/api/types.js';
import { type Api, errorData } from '../api/client.js';
import { PackageSummary } from './package-summary.js';
import { remedyFor, StatusResult } from './status-result.js';

interface Refusal {
  readonly code: number | string;
  readonly message: string;
}

export function PackageScreen(props: {
  readonly api: Api;
  readonly pkg: PackageView | null;
  readonly onPackage: (pkg: PackageView | null) => void;
  readonly devices: readonly DeviceInfo[];
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
  readonly onContinue: () => void;
}) {
  const { api, onPackage } = props;
  const [busy, setBusy] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<Refusal | null>(null);
  const [path, setPath] = useState('');
  const [opened, setOpened] = useState<readonly { path: string; id: string; version: string }[]>([]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a newly opened package refreshes the list
  useEffect(() => {
    let live = true;
    api.client.packages.list
      .query()
      .then((list) => live && setOpened(list))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api, props.pkg]);

  const open = async (getPath: () => Promise<string | null>, what: string) => {
    setBusy(`Verifying ${what}…`);
    setRefusal(null);
    try {
      const p = await getPath();
      if (p === null) return;
      onPackage(await api.client.packages.open.mutate({ path: p }));
    } catch (err) {
      onPackage(null);
      setRefusal(errorData(err));
    } finally {
      setBusy(null);
    }
  };

  const onFile = (file: File | undefined) => {
    if (file) void open(() => api.uploadPackage(file), file.name);
  };
  const onPath = (e: FormEvent) => {
    e.preventDefault();
    const p = path.trim();
    if (p) void open(async () => p, p);
  };

  return (
    <section aria-labelledby="package-heading">
      <div className="section-head">
        <h2 id="package-heading" tabIndex={-1}>
          Package
        </h2>
      </div>
      <div className="panel source">
        {api.packageSource === 'dialog' ? (
          <button
            type="button"
            onClick={() => void open(() => api.pickPackageFile(), 'the package')}
            disabled={busy !== null}
          >
            Open package…
          </button>
        ) : (
          <label className="file-pick">
            Upload a package (.flp)
            <input
              type="file"
              accept=".flp"
              data-testid="package-file"
              disabled={busy !== null}
              onChange={(e) => {
                onFile(e.currentTarget.files?.[0]);
                e.currentTarget.value = '';
              }}
            />
          </label>
        )}
        <form className="path-form" onSubmit={onPath}>
          <label htmlFor="package-path">
            Or a path on the {api.packageSource === 'dialog' ? 'computer' : 'station'}
          </label>
          <input
            id="package-path"
            type="text"
            value={path}
            onChange={(e) => setPath(e.currentTarget.value)}
            placeholder="/path/to/package.flp"
            spellCheck={false}
          />
          <button type="submit" disabled={busy !== null || path.trim() === ''}>
            Open
          </button>
        </form>
        {opened.length > 0 ? (
          <div className="opened">
            <span className="muted">Already verified:</span>
            {opened.map((o) => (
              <button
                type="button"
                key={o.path}
                className="link"
                disabled={busy !== null}
                onClick={() => void open(async () => o.path, o.id)}
              >
                {o.id} {o.version}
              </button>
            ))}
          </div>
        ) : null}
        <output className="busy" aria-live="polite">
          {busy ?? ''}
        </output>
      </div>
      {refusal ? (
        <div role="alert" className="refusal" data-testid="package-error">
          <h3>Package refused</h3>
          <StatusResult
            code={refusal.code}
            name={typeof refusal.code === 'number' ? props.codes.get(refusal.code)?.name : undefined}
            message={refusal.message}
            remedy={remedyFor(props.codes, refusal.code)}
          />
          <p>Nothing can be flashed from this file.</p>
        </div>
      ) : null}
      {props.pkg && !refusal ? (
        <>
          <PackageSummary pkg={props.pkg} devices={props.devices} />
          <div className="actions">
            <button type="button" className="primary" onClick={props.onContinue}>
              Continue to Flash
            </button>
          </div>
        </>
      ) : null}
      {!props.pkg && !refusal ? (
        <p className="muted" data-testid="no-package">
          Open a package to see its verification result. Nothing can be flashed before that.
        </p>
      ) : null}
    </section>
  );
}
