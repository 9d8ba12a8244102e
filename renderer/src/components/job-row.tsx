import type { StatusCodeInfo } from '../../../main/api/types.js';
import { formatEta, formatRate } from '../api/format.js';
import type { JobView } from '../api/jobs.js';
import { remedyFor, StatusResult } from './status-result.js';

/** One job: a bar with reserved space for stage, MB/s and ETA (fixed-width numerals), then its result. */
export function JobRow(props: {
  readonly job: JobView;
  readonly label: string;
  readonly codes: ReadonlyMap<number, StatusCodeInfo>;
  readonly onCancel: (jobId: string) => void;
}) {
  const { job } = props;
  const pct = Math.round(job.percent);
  const ended = job.state === 'done' || job.state === 'failed';
  return (
    <li
      className={`job job-${job.state}`}
      data-testid="job"
      data-device={job.deviceId}
      data-state={job.state}
    >
      <div className="job-head">
        <strong className="job-label">{props.label}</strong>
        <span className="job-stage" data-testid="job-stage">
          {ended ? (job.state === 'done' ? 'done' : 'failed') : job.stage}
        </span>
        <span className="num job-rate">{ended ? '' : formatRate(job.rate)}</span>
        <span className="num job-eta">{ended ? '' : `ETA ${formatEta(job.eta)}`}</span>
        <button
          type="button"
          className="small"
          onClick={() => props.onCancel(job.jobId)}
          disabled={ended}
          aria-label={`Cancel ${props.label}`}
        >
          Cancel
        </button>
      </div>
      <div
        className="bar"
        role="progressbar"
        aria-label={`Progress of ${props.label}`}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={pct}
        aria-valuetext={`${pct}% — ${job.stage}`}
      >
        <progress className="bar-fill" max={100} value={job.percent} aria-hidden="true" />
        <span className="num bar-pct">{pct}%</span>
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
    </li>
  );
}
