import type { StatusCodeInfo } from '../../../main/api/types.js';

/** The remedy for a code: exact row, else its decade's, else a generic line. */
export function remedyFor(codes: ReadonlyMap<number, StatusCodeInfo>, code: number | string): string {
  if (typeof code !== 'number') return 'Check the message above and retry.';
  return (
    codes.get(code)?.remedy ??
    codes.get(Math.floor(code / 10) * 10)?.remedy ??
    'Report this to Flashline support.'
  );
}

/** Status code + message + remedy, as a job end or a refused package shows it. */
export function StatusResult(props: {
  readonly code: number | string;
  readonly name?: string | undefined;
  readonly message: string;
  readonly remedy: string;
  readonly testId?: string;
}) {
  const ok = props.code === 0;
  return (
    <div className={ok ? 'result result-ok' : 'result result-bad'} data-testid={props.testId}>
      <p className="result-code">
        <span className="label">Status</span> <strong data-testid="status-code">{props.code}</strong>
        {props.name ? <span className="muted"> ({props.name})</span> : null}
      </p>
      <p className="result-message" data-testid="status-message">
        {props.message}
      </p>
      {ok ? null : (
        <p className="result-remedy" data-testid="status-remedy">
          <span className="label">What to do:</span> {props.remedy}
        </p>
      )}
    </div>
  );
}
