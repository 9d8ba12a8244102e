import { type FormEvent, useEffect, useState } from 'react';
import type { DeviceInfo, PackageView, StatusCodeInfo } from '../../../main/api/types.js';
import { type Api, errorData } from '../api/client.js';
import {
  fileName,
  type RefusalView,
  refusalView,
  type VerifiedEntry,
  verifiedPackages,
} from '../api/package.js';
import { PackageSummary } from './package-summary.js';
import { StatusResult } from './status-result.js';

export function PackageScreen(props: {
  readonly api: Api;
  readonly pkg: PackageView | null;
  readonly onPackage: (pkg: PackageView) => void;
  readonly devices: readonly DeviceInfo[];
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
  readonly onContinue: () => void;
}) {
  const { api, onPackage, codes } = props;
  const [busy, setBusy] = useState<string | null>(null);
  const [refusal, setRefusal] = useState<{ readonly file: string; readonly view: RefusalView } | null>(null);
  const [path, setPath] = useState('');
  const [opened, setOpened] = useState<readonly VerifiedEntry[]>([]);

  // biome-ignore lint/correctness/useExhaustiveDependencies: a newly opened package refreshes the list
  useEffect(() => {
    let live = true;
    api.client.packages.list
      .query()
      .then((list) => live && setOpened(verifiedPackages(list)))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api, props.pkg]);

  // A refused file never replaces the package already loaded: the technician keeps what was verified.
  const open = async (getPath: () => Promise<string | null>, what: string) => {
    setBusy(`Verifying ${what}…`);
    setRefusal(null);
    let file = what;
    try {
      const p = await getPath();
      if (p === null) return;
      file = fileName(p);
      onPackage(await api.client.packages.open.mutate({ path: p }));
    } catch (err) {
      setRefusal({ file, view: refusalView(errorData(err), codes) });
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
    if (p) void open(async () => p, fileName(p));
  };
  const where = api.packageSource === 'dialog' ? 'computer' : 'station';

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
          <label htmlFor="package-path">Or a path on the {where}</label>
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
          <div className="opened" data-testid="verified-list">
            <span className="muted">Verified on this {where}:</span>
            <ul>
              {opened.map((o) => (
                <li key={o.path}>
                  <button
                    type="button"
                    className="link"
                    disabled={busy !== null}
                    aria-current={props.pkg?.path === o.path ? 'true' : undefined}
                    onClick={() => void open(async () => o.path, o.fileName)}
                  >
                    {o.fileName}
                  </button>{' '}
                  <span className="muted">
                    {o.id} {o.version}
                    {props.pkg?.path === o.path ? ' · loaded' : ''}
                  </span>
                </li>
              ))}
            </ul>
          </div>
        ) : null}
        <output className="busy" aria-live="polite">
          {busy ?? ''}
        </output>
      </div>
      {refusal ? (
        <div role="alert" className="refusal" data-testid="package-error">
          <h3>{refusal.file} was refused</h3>
          <StatusResult
            code={refusal.view.code}
            message={refusal.view.message}
            remedy={refusal.view.remedy}
            details={refusal.view.details}
          />
          <p data-testid="refusal-kept">
            {props.pkg
              ? `Nothing was loaded from this file. ${fileName(props.pkg.path)} (${props.pkg.id} ${props.pkg.version}) is still the loaded package.`
              : 'Nothing can be flashed from this file.'}
          </p>
        </div>
      ) : null}
      {props.pkg ? (
        <>
          <PackageSummary pkg={props.pkg} devices={props.devices} />
          <div className="actions">
            <button type="button" className="primary" onClick={props.onContinue}>
              Continue to Flash
            </button>
          </div>
        </>
      ) : (
        <p className="muted" data-testid="no-package">
          {opened.length > 0
            ? `Choose a verified package above, or ${api.packageSource === 'dialog' ? 'open' : 'upload'} another one. Nothing can be flashed before a package is loaded.`
            : `${api.packageSource === 'dialog' ? 'Open' : 'Upload'} a package (.flp) or give its path on the ${where}: it is verified before anything can be flashed.`}
        </p>
      )}
    </section>
  );
}
