/**
 * The process policy for unexpected promise rejections. A long-running station must not die because one
 * job's promise rejected where nobody awaited it (Node's default ends the process, and every parallel job
 * with it). Instead: log the rejection with the job it belongs to, fail that job, keep serving.
 *
 * "The job it belongs to" comes from AsyncLocalStorage: the job manager runs each job inside
 * `runInJobScope`, and Node hands the `unhandledRejection` listener the async context of the promise that
 * was rejected, so the scope is still visible there.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface JobScope {
  readonly jobId: string;
  /** End the job with a failure caused by `reason` (it keeps running code for cleanup, then ends). */
  fail(reason: unknown): void;
}

const scopes = new AsyncLocalStorage<JobScope>();

export function runInJobScope<T>(scope: JobScope, fn: () => T): T {
  return scopes.run(scope, fn);
}

export interface FaultPolicyOptions {
  /** Where the one-line notice goes (the station log, the CLI's stderr). */
  readonly log: (line: string) => void;
}

let installed: { dispose: () => void; log: (line: string) => void } | undefined;

/**
 * Install the policy once per process (later calls only replace the log) and return a function that
 * removes it. Called by the composition roots: `main/cli/index.ts` and `main/station/live-service.ts`.
 */
export function installFaultPolicy(options: FaultPolicyOptions): () => void {
  if (installed) {
    installed.log = options.log;
    return installed.dispose;
  }
  const onRejection = (reason: unknown) => {
    const job = scopes.getStore();
    const text = reason instanceof Error ? reason.message : String(reason);
    const where = reason instanceof Error ? firstFrame(reason) : undefined;
    installed?.log(
      `unexpected error${job ? ` in job ${job.jobId}` : ''}: ${text}${where ? ` (at ${where})` : ''}${
        job ? '; that job is failed, the others go on' : '; Flashline goes on'
      }`,
    );
    job?.fail(reason);
  };
  process.on('unhandledRejection', onRejection);
  const state = {
    log: options.log,
    dispose: () => {
      process.off('unhandledRejection', onRejection);
      installed = undefined;
    },
  };
  installed = state;
  return state.dispose;
}

function firstFrame(err: Error): string | undefined {
  return err.stack
    ?.split('\n')
    .find((l) => l.trimStart().startsWith('at '))
    ?.trim()
    .slice(3);
}
