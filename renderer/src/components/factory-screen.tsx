import { memo, useEffect, useMemo, useState } from 'react';
import type { DeviceInfo, PackageView } from '../../../main/api/types.js';
import { type Api, errorMessage } from '../api/client.js';
import { compareDevices, deviceLabel } from '../api/device-label.js';
import { factoryCounters, passTimes, unitsPerHourSeries } from '../api/factory.js';
import { type JobMap, type JobView, jobLabel, jobPhase, latestByDevice } from '../api/jobs.js';
import { fileName } from '../api/package.js';
import { ConfirmDialog } from './confirm-dialog.js';
import { UnitsChart } from './units-chart.js';

interface Port {
  readonly id: string;
  readonly device?: DeviceInfo;
  readonly job?: JobView;
  readonly lastError?: JobView;
}

/**
 * Ports: connected devices (in the stable screen order) plus any that had a job this session — a unit
 * unplugged keeps its tile, after the connected ones.
 */
function ports(devices: readonly DeviceInfo[], jobs: JobMap): Port[] {
  const latest = latestByDevice(jobs);
  const lastError = new Map<string, JobView>();
  for (const j of jobs.values()) if (j.state === 'failed') lastError.set(j.deviceId, j);
  const connected = [...devices].sort(compareDevices).map((d) => d.id);
  const gone = [...latest.keys()].filter((id) => !connected.includes(id)).sort();
  const ids = [...connected, ...gone];
  return ids.map((id) => {
    const device = devices.find((d) => d.id === id);
    const job = latest.get(id);
    const err = lastError.get(id);
    return { id, ...(device ? { device } : {}), ...(job ? { job } : {}), ...(err ? { lastError: err } : {}) };
  });
}

/**
 * One port's tile, rendered again only when its device, job or last error changed (each is replaced, never
 * mutated): with 64 devices at 4 Hz the other 63 tiles stay as they are.
 */
const Tile = memo(
  function Tile({ port: p }: { readonly port: Port }) {
    const s = tileState(p);
    return (
      <li className={`tile ${s.cls}`} data-testid="tile" data-device={p.id}>
        <span className="tile-name">
          {p.device ? deviceLabel(p.device).serial : p.job ? jobLabel(p.job, []).serial : p.id}
          <span className="tile-product">
            {p.device ? deviceLabel(p.device).name : p.job ? jobLabel(p.job, []).name : ''}
          </span>
        </span>
        <span className="tile-big num" data-testid="tile-state">
          {s.big}
        </span>
        <span className="tile-sub">
          {p.job && p.job.state === 'running' ? jobPhase(p.job) : (p.device?.address ?? 'disconnected')}
        </span>
        <span className="tile-error" data-testid="tile-error">
          {p.lastError ? `Last error ${p.lastError.status}: ${p.lastError.error?.message ?? ''}` : '\u00a0'}
        </span>
      </li>
    );
  },
  (a, b) =>
    a.port.id === b.port.id &&
    a.port.device === b.port.device &&
    a.port.job === b.port.job &&
    a.port.lastError === b.port.lastError,
);

function tileState(p: Port): { cls: string; big: string } {
  const j = p.job;
  if (j?.state === 'done') return { cls: 'tile-pass', big: 'PASS' };
  if (j?.state === 'failed') return { cls: 'tile-fail', big: `FAIL ${j.status ?? ''}` };
  if (j) return { cls: 'tile-busy', big: `${String(Math.round(j.percent)).padStart(3, '\u2007')}%` };
  if (!p.device) return { cls: 'tile-empty', big: '—' };
  return { cls: 'tile-idle', big: 'READY' };
}

export function FactoryScreen(props: {
  readonly api: Api;
  readonly pkg: PackageView | null;
  readonly devices: readonly DeviceInfo[];
  readonly jobs: JobMap;
  readonly firstStartMs: number | null;
  readonly autoFlash: string | null;
  readonly onAutoFlash: (path: string | null) => void;
}) {
  const { api, pkg } = props;
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  // Units per hour moves with time, not only with events.
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 5000);
    return () => clearInterval(t);
  }, []);
  const at = Math.max(now, Date.now());
  const counters = factoryCounters(props.jobs.values(), props.firstStartMs, at);
  const uph = counters.unitsPerHour;
  // The chart's series changes only when a unit passes or the 5-second clock ticks, not with progress.
  const passes = passTimes(props.jobs.values());
  const passKey = `${passes.length}:${passes[passes.length - 1] ?? 0}`;
  // biome-ignore lint/correctness/useExhaustiveDependencies: passKey stands for passes (same length and last pass = same list)
  const series = useMemo(
    () => unitsPerHourSeries(passes, props.firstStartMs, now),
    [passKey, props.firstStartMs, now],
  );
  const peak = Math.max(0, ...series.values.map((v) => v ?? 0));
  const enabled = props.autoFlash !== null;

  const setAuto = async (path: string | null) => {
    setConfirming(false);
    setError(null);
    try {
      const r = await api.client.jobs.autoFlash.mutate({ packagePath: path });
      props.onAutoFlash(r.enabled ? r.packagePath : null);
    } catch (err) {
      setError(errorMessage(err));
    }
  };

  return (
    <section aria-labelledby="factory-heading" className="factory">
      <div className="section-head">
        <h2 id="factory-heading" tabIndex={-1}>
          Factory
        </h2>
        <div className="auto-flash">
          <span id="auto-flash-label">Auto-flash on connect</span>
          <button
            type="button"
            role="switch"
            aria-checked={enabled}
            aria-labelledby="auto-flash-label"
            data-testid="auto-flash"
            className={enabled ? 'switch switch-on' : 'switch'}
            disabled={!pkg && !enabled}
            onClick={() => (enabled ? void setAuto(null) : setConfirming(true))}
          >
            <span className="switch-knob" aria-hidden="true" />
            <span className="switch-text">{enabled ? 'On' : 'Off'}</span>
          </button>
        </div>
      </div>
      <p className="muted">
        {enabled
          ? `Auto-flashing every compatible device with ${fileName(props.autoFlash)}`
          : pkg
            ? `Package: ${pkg.id} · version ${pkg.version}`
            : 'Open a package to enable auto-flash.'}
      </p>
      {error ? (
        <p className="error" role="alert">
          {error}
        </p>
      ) : null}
      <ConfirmDialog
        open={confirming}
        title="Turn on auto-flash?"
        confirmLabel="Turn on"
        onConfirm={() => pkg && void setAuto(pkg.path)}
        onCancel={() => setConfirming(false)}
      >
        <p>
          Every compatible device connected now or later will be flashed with {pkg?.id} version {pkg?.version}
          , without asking again. Units already flashed with this package are skipped.
        </p>
      </ConfirmDialog>
      <dl className="counters" data-testid="counters">
        <div className="counter counter-pass">
          <dt>Passed</dt>
          <dd data-testid="count-passed">{counters.passed}</dd>
        </div>
        <div className="counter counter-fail">
          <dt>Failed</dt>
          <dd data-testid="count-failed">{counters.failed}</dd>
        </div>
        <div className="counter">
          <dt>In progress</dt>
          <dd data-testid="count-progress">{counters.inProgress}</dd>
        </div>
        <div className="counter">
          <dt>Units / hour</dt>
          <dd data-testid="count-uph">{uph.value === null ? '—' : uph.value.toFixed(0)}</dd>
          <dd className="counter-basis" data-testid="count-uph-basis">
            {uph.basis}
          </dd>
        </div>
      </dl>
      {series.values.some((v) => v !== null) ? (
        <figure className="panel units-figure" data-testid="units-figure">
          <figcaption>
            Units per hour over this session: now {uph.value === null ? '—' : uph.value.toFixed(0)}, highest{' '}
            {peak.toFixed(0)}.
          </figcaption>
          <UnitsChart series={series} />
        </figure>
      ) : null}
      <ul className="tiles" aria-label="Ports">
        {ports(props.devices, props.jobs).map((p) => (
          <Tile key={p.id} port={p} />
        ))}
      </ul>
    </section>
  );
}
