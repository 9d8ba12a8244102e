import { memo, useEffect, useState } from 'react';
import type { DeviceInfo } from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import { type InterruptedJob, interruptedLine } from '../api/interrupted.js';

/**
 * Jobs cut short when Flashline last stopped, shown on every screen until each is resumed or discarded.
 * Reloaded when the connection comes back and after every job end (a resumed job ends like any other).
 */
/** Memoised: it sits above every screen and changes only with its own props, not with job progress. */
export const InterruptedBanner = memo(function InterruptedBanner(props: {
  readonly api: Api;
  readonly connected: boolean;
  readonly refreshKey: number;
  readonly devices: readonly DeviceInfo[];
}) {
  const { api, connected, refreshKey } = props;
  const [jobs, setJobs] = useState<readonly InterruptedJob[]>([]);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [reload, setReload] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: refreshKey and reload are reload triggers
  useEffect(() => {
    if (!connected) return;
    let live = true;
    api.client.jobs.interrupted
      .query()
      .then((list) => live && setJobs(list))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api, connected, refreshKey, reload]);
  if (jobs.length === 0) return null;

  const resolve = (jobId: string, action: 'resume' | 'fail') => {
    setBusy(jobId);
    setError(null);
    api.client.jobs.resolveInterrupted
      .mutate({ jobId, action })
      .catch((err: unknown) => setError(errorMessage(err)))
      .finally(() => {
        setBusy(null);
        setReload((n) => n + 1);
      });
  };

  return (
    <section className="interrupted" aria-labelledby="interrupted-heading" data-testid="interrupted">
      <h2 id="interrupted-heading">
        {jobs.length === 1 ? 'A job was' : `${jobs.length} jobs were`} cut short when Flashline last stopped
      </h2>
      <p className="muted">
        The devices stay on their working slot. Resume continues where the job stopped; Discard closes it with
        status 18.
      </p>
      <ul>
        {jobs.map((j) => {
          const line = interruptedLine(j, props.devices);
          return (
            <li key={j.jobId} data-testid="interrupted-job" data-device={j.deviceId}>
              <span>
                <strong>{line.label.serial}</strong> {line.label.name} — {line.what}
                {line.cannotResume ? <span className="muted"> ({line.cannotResume})</span> : null}
              </span>
              <span className="actions">
                <button
                  type="button"
                  className="small"
                  disabled={busy !== null || line.cannotResume !== null}
                  onClick={() => resolve(j.jobId, 'resume')}
                  aria-label={`Resume ${line.label.full}`}
                >
                  Resume
                </button>
                <button
                  type="button"
                  className="small"
                  disabled={busy !== null}
                  onClick={() => resolve(j.jobId, 'fail')}
                  aria-label={`Discard ${line.label.full}`}
                >
                  Discard
                </button>
              </span>
            </li>
          );
        })}
      </ul>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
    </section>
  );
});
