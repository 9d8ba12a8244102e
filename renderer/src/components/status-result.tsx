/** Status code + message + remedy, as a job end or a refused package shows it; internals under "Details". */
export function StatusResult(props: {
  readonly code: number | string;
  readonly name?: string | undefined;
  readonly message: string;
  readonly remedy: string;
  readonly details?: readonly string[];
  readonly testId?: string;
}) {
  const ok = props.code === 0;
  // The code's internal name (e.g. booted_old_slot) is for support: it goes with the other internals.
  const details = ok ? [] : [...(props.name ? [`Code name: ${props.name}`] : []), ...(props.details ?? [])];
  return (
    <div className={ok ? 'result result-ok' : 'result result-bad'} data-testid={props.testId}>
      <p className="result-code">
        <span className="label">Status</span> <strong data-testid="status-code">{props.code}</strong>
      </p>
      <p className="result-message" data-testid="status-message">
        {props.message}
      </p>
      {ok ? null : (
        <p className="result-remedy" data-testid="status-remedy">
          <span className="label">What to do:</span> {props.remedy}
        </p>
      )}
      {details.length > 0 ? (
        <details className="details" data-testid="status-details">
          <summary>Details</summary>
          {details.map((d) => (
            <p key={d} className="details-line">
              {d}
            </p>
          ))}
        </details>
      ) : null}
    </div>
  );
}
