/**
 * The support flow on a device in EDL: pick a rescue package → optional backup → confirm → progress (MB/s,
 * ETA) → result with the device's own log lines. The service verifies the package before a byte reaches the
 * device; when the device comes back in fastboot it appears in the device list as a normal device.
 */
import { type FormEvent, useEffect, useState } from 'react';
import type {
  DeviceInfo,
  RescueJobView,
  RescuePackageSeen,
  StatusCodeInfo,
} from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import { deviceLabel } from '../api/device-label.js';
import { formatBytes, formatEta, formatRate } from '../api/format.js';
import { fileName } from '../api/package.js';
import { parseBackupField, RESCUE_STAGE_LABELS, stagePercent } from '../api/rescue.js';
import { useRescueJobs } from '../use-rescue.js';
import { StatusResult } from './status-result.js';

type Step = 'package' | 'backup' | 'confirm' | 'running';

export function RescueFlow(props: {
  readonly api: Api;
  readonly device: DeviceInfo;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
  readonly onClose: () => void;
}) {
  const { api, device } = props;
  const { jobs } = useRescueJobs(api);
  const [step, setStep] = useState<Step>('package');
  const [packagePath, setPackagePath] = useState('');
  const [known, setKnown] = useState<readonly RescuePackageSeen[]>([]);
  const [backupText, setBackupText] = useState('');
  // A device on a TCP EDL address comes back on the same address; one on a serial port may come back anywhere.
  const [comeBack, setComeBack] = useState('');
  const [jobId, setJobId] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const label = deviceLabel(device);
  const backup = parseBackupField(backupText);
  const job = jobId ? jobs.get(jobId) : undefined;

  useEffect(() => {
    let live = true;
    api.client.rescue.packages
      .query()
      .then((list) => live && setKnown(list))
      .catch(() => undefined);
    return () => {
      live = false;
    };
  }, [api]);

  const pickFile = async (file: File | undefined) => {
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      setPackagePath(await api.uploadPackage(file));
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const pickDialog = async () => {
    const p = await api.pickPackageFile().catch((err: unknown) => {
      setError(errorMessage(err));
      return null;
    });
    if (p) setPackagePath(p);
  };
  const start = async () => {
    setBusy(true);
    setError(null);
    try {
      const started = await api.client.rescue.start.mutate({
        deviceId: device.id,
        packagePath,
        ...(backup?.length ? { backupPartitions: backup } : {}),
        ...(comeBack.trim() ? { comeBackDeviceId: comeBack.trim() } : {}),
      });
      setJobId(started.jobId);
      setStep('running');
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };
  const next = (e: FormEvent, to: Step) => {
    e.preventDefault();
    setStep(to);
  };

  return (
    <section className="panel rescue" aria-labelledby="rescue-heading" data-testid="rescue-flow">
      <div className="section-head">
        <h2 id="rescue-heading" tabIndex={-1}>
          Rescue {label.name} <span className="device-serial">{label.serial}</span>
        </h2>
        {step !== 'running' || job?.state === 'ended' ? (
          <button type="button" onClick={props.onClose} data-testid="rescue-close">
            Close
          </button>
        ) : null}
      </div>
      {step === 'package' ? (
        <form onSubmit={(e) => next(e, 'backup')} data-testid="rescue-step-package">
          <p>Choose the signed rescue package for this device. It is verified before anything is sent.</p>
          {api.packageSource === 'dialog' ? (
            <button type="button" onClick={() => void pickDialog()} disabled={busy}>
              Choose rescue package…
            </button>
          ) : (
            <label className="file-pick">
              Upload a rescue package (.flp)
              <input
                type="file"
                accept=".flp"
                disabled={busy}
                data-testid="rescue-package-file"
                onChange={(e) => {
                  void pickFile(e.currentTarget.files?.[0]);
                  e.currentTarget.value = '';
                }}
              />
            </label>
          )}
          <label htmlFor="rescue-package-path">
            Path on the {api.packageSource === 'dialog' ? 'computer' : 'station'}
          </label>
          <input
            id="rescue-package-path"
            type="text"
            value={packagePath}
            onChange={(e) => setPackagePath(e.currentTarget.value)}
            placeholder="/path/to/rescue.flp"
            spellCheck={false}
            data-testid="rescue-package-path"
          />
          {known.length > 0 ? (
            <ul
              className="opened"
              aria-label="Rescue packages used on this station"
              data-testid="rescue-known"
            >
              {known.map((p) => (
                <li key={p.path}>
                  <button type="button" className="link" onClick={() => setPackagePath(p.path)}>
                    {fileName(p.path)}
                  </button>{' '}
                  <span className="muted">
                    {p.id} {p.version}
                  </span>
                </li>
              ))}
            </ul>
          ) : null}
          <div className="actions">
            <button
              type="submit"
              className="primary"
              disabled={busy || packagePath.trim() === ''}
              data-testid="rescue-next"
            >
              Next
            </button>
          </div>
        </form>
      ) : null}
      {step === 'backup' ? (
        <form onSubmit={(e) => next(e, 'confirm')} data-testid="rescue-step-backup">
          <label htmlFor="rescue-backup">
            Back up partitions first (optional): their labels, e.g. <code>boot, modemst1</code>
          </label>
          <input
            id="rescue-backup"
            type="text"
            value={backupText}
            onChange={(e) => setBackupText(e.currentTarget.value)}
            spellCheck={false}
            aria-invalid={backup === null}
            data-testid="rescue-backup"
          />
          {backup === null ? (
            <p className="error" role="alert">
              A partition label is 1–36 letters, digits, _ . or -; separate labels with commas.
            </p>
          ) : null}
          <p className="muted">
            Backups are written on the station, one file per partition, before anything is written.
          </p>
          {device.connection === 'serial' ? (
            <>
              <label htmlFor="rescue-come-back">
                Where it comes back in fastboot after the rescue (a device id such as{' '}
                <code>tcp:HOST:PORT</code>)
              </label>
              <input
                id="rescue-come-back"
                type="text"
                value={comeBack}
                onChange={(e) => setComeBack(e.currentTarget.value)}
                spellCheck={false}
                data-testid="rescue-come-back"
              />
            </>
          ) : null}
          <div className="actions">
            <button type="button" onClick={() => setStep('package')}>
              Back
            </button>
            <button type="submit" className="primary" disabled={backup === null} data-testid="rescue-next">
              Next
            </button>
          </div>
        </form>
      ) : null}
      {step === 'confirm' ? (
        <div data-testid="rescue-step-confirm">
          <dl>
            <div className="field">
              <dt>Device</dt>
              <dd>
                {device.id} {device.msmHwId ? `· MSM ${device.msmHwId}` : ''}
              </dd>
            </div>
            <div className="field">
              <dt>Package</dt>
              <dd data-testid="rescue-confirm-package">{fileName(packagePath)}</dd>
            </div>
            <div className="field">
              <dt>Backup</dt>
              <dd data-testid="rescue-confirm-backup">{backup?.length ? backup.join(', ') : 'none'}</dd>
            </div>
          </dl>
          <p className="warning">
            The device's storage is rewritten from the package. Keep it connected until it has come back.
          </p>
          <div className="actions">
            <button type="button" onClick={() => setStep('backup')} disabled={busy}>
              Back
            </button>
            <button
              type="button"
              className="primary"
              onClick={() => void start()}
              disabled={busy}
              data-testid="rescue-start"
            >
              Start rescue
            </button>
          </div>
        </div>
      ) : null}
      {step === 'running' ? <RescueProgressView job={job} codes={props.codes} /> : null}
      {error ? (
        <p className="error" role="alert" data-testid="rescue-error">
          {error}
        </p>
      ) : null}
      {step === 'running' && job?.state === 'running' ? (
        <div className="actions">
          <button type="button" onClick={() => void api.client.rescue.cancel.mutate({ jobId: job.jobId })}>
            Cancel
          </button>
        </div>
      ) : null}
    </section>
  );
}

function RescueProgressView(props: {
  readonly job: RescueJobView | undefined;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
}) {
  const { job } = props;
  if (!job) return <p aria-live="polite">Starting…</p>;
  const report = job.report;
  if (report) {
    return (
      <div data-testid="rescue-result">
        <StatusResult
          code={report.status}
          name={report.statusName}
          message={report.message}
          remedy={report.remedy}
          testId="rescue-status"
        />
        {report.cameBackAs ? (
          <p data-testid="rescue-came-back">
            The device is back as {report.cameBackAs}
            {report.postcheck ? ` (${report.postcheck})` : ''}; it is in the device list, ready to flash.
          </p>
        ) : null}
        {report.backups.length > 0 ? (
          <ul aria-label="Backups" data-testid="rescue-backups">
            {report.backups.map((b) => (
              <li key={b.file}>
                {b.partition}: {b.file} ({formatBytes(b.bytes)}, SHA-256 {b.sha256.slice(0, 16)}…)
              </li>
            ))}
          </ul>
        ) : null}
        {report.deviceLog.length > 0 ? (
          <details open={report.status !== 0} className="details">
            <summary>What the device said ({report.deviceLog.length} lines)</summary>
            <pre className="device-log" data-testid="rescue-device-log">
              {report.deviceLog.join('\n')}
            </pre>
          </details>
        ) : null}
      </div>
    );
  }
  const p = job.progress;
  const pct = stagePercent(p);
  return (
    <div data-testid="rescue-progress" aria-live="polite">
      <p data-testid="rescue-stage">{p ? RESCUE_STAGE_LABELS[p.stage] : 'Starting…'}</p>
      {p?.label ? <p className="muted">{p.label}</p> : null}
      <progress max={100} value={pct ?? undefined} aria-label="Stage progress" />
      <p className="muted">
        {p && p.bytesTotal > 0 ? `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)} · ` : ''}
        <span data-testid="rescue-rate">{formatRate(p?.rate ?? 0)}</span> · ETA{' '}
        <span data-testid="rescue-eta">{formatEta(p?.etaSeconds)}</span>
      </p>
    </div>
  );
}
