/**
 * How every long-running command reacts to Ctrl-C / SIGTERM, in one place: the first signal asks the
 * command to stop safely (cancel jobs: journal written, device left on its working slot) and says so; if the
 * command has not finished within `graceMs`, or a second signal arrives, the process exits at once with the
 * conventional code (130 for SIGINT, 143 for SIGTERM). Nothing here keeps the process alive: the grace timer
 * is unref'd and the listeners are removed by the returned `dispose`.
 */
export interface StopSignalOptions {
  /** Called once, on the first signal: start a safe stop (cancel jobs, close servers). */
  readonly onStop: (signal: NodeJS.Signals) => void;
  /** Where the one-line notices go (default stderr). */
  readonly out?: NodeJS.WritableStream;
  /** How long a safe stop may take before the process exits anyway (default 10 s). */
  readonly graceMs?: number;
  /** What the command is stopping, for the notice ("cancelling 3 job(s)"). */
  readonly describe?: () => string;
}

export const STOP_GRACE_MS = 10_000;
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export function handleStopSignals(options: StopSignalOptions): () => void {
  const out = options.out ?? process.stderr;
  const graceMs = options.graceMs ?? STOP_GRACE_MS;
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    const code = SIGNAL_EXIT_CODES[signal] ?? 1;
    if (stopping) {
      out.write(`\n${signal} again: exiting now.\n`);
      process.exit(code);
    }
    stopping = true;
    const what = options.describe?.() ?? 'stopping';
    out.write(`\n${signal}: ${what}; press Ctrl-C again to exit at once.\n`);
    setTimeout(() => {
      out.write(`still not stopped after ${Math.round(graceMs / 1000)} s: exiting.\n`);
      process.exit(code);
    }, graceMs).unref();
    options.onStop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}
