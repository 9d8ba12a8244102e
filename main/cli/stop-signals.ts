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
  /**
   * What a forced exit (second signal, grace expired) leaves behind, printed just before it ("job … stays
   * resumable: run the same command again"). Undefined or empty: nothing to say.
   */
  readonly leftBehind?: () => string | undefined;
}

export const STOP_GRACE_MS = 10_000;
const SIGNAL_EXIT_CODES: Partial<Record<NodeJS.Signals, number>> = { SIGINT: 130, SIGTERM: 143 };

export function handleStopSignals(options: StopSignalOptions): () => void {
  const out = options.out ?? process.stderr;
  const graceMs = options.graceMs ?? STOP_GRACE_MS;
  let stopping = false;
  const exitNow = (code: number, why: string) => {
    const left = safely(options.leftBehind);
    out.write(`${why}${left ? `\n${left}` : ''}\n`);
    process.exit(code);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    const code = SIGNAL_EXIT_CODES[signal] ?? 1;
    if (stopping) exitNow(code, `\n${signal} again: exiting now.`);
    stopping = true;
    const what = safely(options.describe) ?? 'stopping';
    out.write(`\n${signal}: ${what}; press Ctrl-C again to exit at once.\n`);
    setTimeout(
      () => exitNow(code, `still not stopped after ${Math.round(graceMs / 1000)} s: exiting.`),
      graceMs,
    ).unref();
    options.onStop(signal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return () => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  };
}

/** A notice must never turn a stop into a crash. */
function safely(text: (() => string | undefined) | undefined): string | undefined {
  try {
    return text?.() || undefined;
  } catch {
    return undefined;
  }
}

/**
 * For commands that run until asked to stop (station, virtual devices): resolves with the first signal,
 * under the same policy (a second signal or an expired grace exits at once). `dispose` removes the handlers.
 */
export function untilStopSignal(options: Omit<StopSignalOptions, 'onStop'> = {}): {
  readonly stopped: Promise<NodeJS.Signals>;
  readonly dispose: () => void;
} {
  let dispose = () => {};
  const stopped = new Promise<NodeJS.Signals>((resolve) => {
    dispose = handleStopSignals({ ...options, onStop: resolve });
  });
  return { stopped, dispose };
}
