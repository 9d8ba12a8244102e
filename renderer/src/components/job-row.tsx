import { memo } from 'react';
import type { StatusCodeInfo } from '../../../main/api/types.js';
import type { DeviceLabel } from '../api/device-label.js';
import { type JobView, jobPhase, jobSpeed, throughputSummary } from '../api/jobs.js';
import { remedyFor } from '../api/status.js';
import { Sparkline } from './sparkline.js';
import { StatusResult } from './status-result.js';

/**
 * One job: serial and device name, the phase in plain words, rate and time left only when measured, a bar,
 * a throughput sparkline (with its numbers as text), then the result. Cancel exists only while it can act.
 */
interface JobRowProps {
  readonly job: JobView;
  readonly label: DeviceLabel;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
  readonly onCancel: (jobId: string) => void;
}

/**
 * Rendered again only when its own job changed (a job's view is replaced, never mutated, on each of its
 * events): with 64 devices at 4 Hz, re-rendering every row (and redrawing its sparkline) for every update
 * cost more than a frame. The label is a fresh object per render, so it is compared by its text.
 */
export const JobRow = memo(JobRowView, (a: JobRowProps, b: JobRowProps) => {
  return (
    a.job === b.job &&
    a.codes === b.codes &&
    a.onCancel === b.onCancel &&
    a.label.full === b.label.full &&
    a.label.serial === b.label.serial &&
    a.label.name === b.label.name
  );
});

function JobRowView(props: JobRowProps) {
  const { job, label } = props;
  const pct = Math.round(job.percent);
  const ended = job.state === 'done' || job.state === 'failed';
  const phase = jobPhase(job);
  const speed = jobSpeed(job);
  const throughput = throughputSummary(job.samples);
  return (
    <li
      className={`job job-${job.state}`}
      data-testid="job"
      data-device={job.deviceId}
      data-state={job.state}
    >
      <div className="job-head">
        <span className="job-label">
          <strong data-testid="job-serial">{label.serial}</strong>{' '}
          <span className="muted" data-testid="job-device">
            {label.name}
          </span>
        </span>
        <span className="job-stage" data-testid="job-stage">
          {phase}
        </span>
        <span className="num job-rate" data-testid="job-rate">
          {speed.rate ?? ''}
        </span>
        <span className="num job-eta" data-testid="job-eta">
          {speed.eta ?? ''}
        </span>
        {ended ? null : (
          <button
            type="button"
            className="small"
            onClick={() => props.onCancel(job.jobId)}
            aria-label={`Cancel ${label.full}`}
          >
            Cancel
          </button>
        )}
      </div>
      <div className="job-progress">
        <div
          className="bar"
          role="progressbar"
          aria-label={`Progress of ${label.full}`}
          aria-valuemin={0}
          aria-valuemax={100}
          aria-valuenow={pct}
          aria-valuetext={`${pct}% — ${phase}`}
        >
          <progress className="bar-fill" max={100} value={job.percent} aria-hidden="true" />
          <span className="num bar-pct">{pct}%</span>
        </div>
        <div className="job-throughput">
          {job.samples.length > 1 ? <Sparkline samples={job.samples} /> : null}
          <span className="muted job-throughput-text" data-testid="job-throughput">
            {throughput ? `Speed: ${throughput}` : ''}
          </span>
        </div>
      </div>
      {ended && job.status !== undefined ? (
        <StatusResult
          testId="job-result"
          code={job.error?.code ?? job.status}
          name={job.statusName}
          message={job.error?.message ?? job.message ?? ''}
          remedy={job.error?.remedy ?? remedyFor(props.codes, job.status)}
        />
      ) : null}
      {ended && job.confirmed ? (
        <p className="muted job-confirmed" data-testid="job-confirmed">
          Confirmed: {job.confirmed}
        </p>
      ) : null}
      {ended && job.unchecked?.length ? (
        <div className="job-unchecked" data-testid="job-unchecked">
          <span className="muted">Not checked on this device:</span>
          <ul>
            {job.unchecked.map((u) => (
              <li key={u}>{u}</li>
            ))}
          </ul>
        </div>
      ) : null}
    </li>
  );
}
