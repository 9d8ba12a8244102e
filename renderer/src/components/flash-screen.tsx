import { useCallback, useState } from 'react';
import type { DeviceInfo, PackageView, StatusCodeInfo } from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import { packageFit } from '../api/compat.js';
import { deviceLabel } from '../api/device-label.js';
import { type JobMap, jobLabel, shownJobs } from '../api/jobs.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { JobRow } from './job-row.js';

export function FlashScreen(props: {
  readonly api: Api;
  readonly pkg: PackageView | null;
  readonly devices: readonly DeviceInfo[];
  readonly jobs: JobMap;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
  readonly onOpenPackage: () => void;
}) {
  const { api, pkg, devices } = props;
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const fits = new Map(pkg ? devices.map((d) => [d.id, packageFit(pkg, d)]) : []);
  const chosen = devices.filter((d) => selected.has(d.id) && fits.get(d.id)?.fits);
  const toggle = (id: string, on: boolean) =>
    setSelected((s) => {
      const next = new Set(s);
      if (on) next.add(id);
      else next.delete(id);
      return next;
    });
  const start = async () => {
    if (!pkg) return;
    setConfirming(false);
    setError(null);
    try {
      await api.client.jobs.start.mutate({ packagePath: pkg.path, deviceIds: chosen.map((d) => d.id) });
      setSelected(new Set());
    } catch (err) {
      setError(errorMessage(err));
    }
  };
  // Stable across renders, so rows whose job did not change are not rendered again (JobRow is memoised).
  const cancel = useCallback(
    (jobId: string) => {
      api.client.jobs.cancel.mutate({ jobId }).catch((err: unknown) => setError(errorMessage(err)));
    },
    [api],
  );
  const { all, jobs } = shownJobs(props.jobs);

  return (
    <section aria-labelledby="flash-heading">
      <div className="section-head">
        <h2 id="flash-heading" tabIndex={-1}>
          Flash
        </h2>
        {pkg ? (
          <span className="muted">
            {pkg.id} · version {pkg.version}
          </span>
        ) : null}
      </div>
      {pkg ? null : (
        <div className="panel" data-testid="flash-no-package">
          <p className="muted">Open and verify a package first.</p>
          <button type="button" onClick={props.onOpenPackage}>
            Go to Package
          </button>
        </div>
      )}
      {pkg ? (
        <fieldset className="panel device-pick">
          <legend>Devices</legend>
          {devices.length === 0 ? <p className="muted">No devices connected.</p> : null}
          {devices.map((d) => {
            const fit = fits.get(d.id);
            return (
              <label key={d.id} className={fit?.fits ? 'pick' : 'pick pick-no'}>
                <input
                  type="checkbox"
                  checked={selected.has(d.id) && fit?.fits === true}
                  disabled={!fit?.fits}
                  onChange={(e) => toggle(d.id, e.currentTarget.checked)}
                  data-testid="pick-device"
                  data-device={d.id}
                />
                <span>
                  <strong>{deviceLabel(d).serial}</strong> {deviceLabel(d).name}{' '}
                  <span className="muted">
                    · {d.address}
                    {d.mode === 'android' ? ' · in Android: the job reboots it into fastboot' : ''}
                  </span>
                </span>
                {fit?.fits ? null : <span className="muted pick-why">— {fit?.reason}</span>}
              </label>
            );
          })}
          <div className="actions">
            <button
              type="button"
              onClick={() =>
                setSelected(new Set(devices.filter((d) => fits.get(d.id)?.fits).map((d) => d.id)))
              }
            >
              Select all compatible
            </button>
            <button
              type="button"
              className="primary"
              disabled={chosen.length === 0}
              onClick={() => setConfirming(true)}
            >
              Flash {chosen.length} {chosen.length === 1 ? 'device' : 'devices'}…
            </button>
          </div>
        </fieldset>
      ) : null}
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <ConfirmDialog
        open={confirming}
        title="Flash these devices?"
        confirmLabel={`Flash ${chosen.length}`}
        onConfirm={() => void start()}
        onCancel={() => setConfirming(false)}
      >
        <p>
          {pkg?.id} version {pkg?.version} will be written to the inactive slot of:
        </p>
        <ul>
          {chosen.map((d) => (
            <li key={d.id}>{deviceLabel(d).full}</li>
          ))}
        </ul>
        <p>Keep the devices connected and powered until each shows a result.</p>
      </ConfirmDialog>
      <h3>Jobs</h3>
      {jobs.length === 0 ? <p className="muted">No jobs yet.</p> : null}
      <ul className="jobs" aria-label="Jobs">
        {jobs.map((j) => (
          <JobRow key={j.jobId} job={j} label={jobLabel(j, devices)} codes={props.codes} onCancel={cancel} />
        ))}
      </ul>
      {all.length > jobs.length ? (
        <p className="muted" data-testid="jobs-more">
          {all.length - jobs.length} earlier job{all.length - jobs.length === 1 ? '' : 's'} of this session
          are in History.
        </p>
      ) : null}
    </section>
  );
}
