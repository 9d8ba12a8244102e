/**
 * The end of a job: making its outcome durable, and naming what a station disk fault failed to write.
 * Kept apart from job.ts, whose subject is the stage list.
 */
import type { FlashlineError } from '../common/errors.js';
import { classify, describeCode, JOB_CODES, jobFailure, remedyOf, stationStorageFailure } from './codes.js';
import type { Journal } from './journal.js';
import type { JobReport, ReportBuilder } from './report.js';

type Failure = FlashlineError & { code: number };

/**
 * Make the job's outcome durable: the report into the store (then the journal goes), or, without a store,
 * an end record in the journal. A station disk fault here ends the job 19, saying what became of the device.
 */
export async function recordOutcome(
  input: { readonly saveReport?: ((report: JobReport) => Promise<void>) | undefined },
  journal: Journal,
  report: ReportBuilder,
  status: number,
  failure: Failure | undefined,
): Promise<{ status: number; failure: Failure | undefined; final: JobReport }> {
  const message = failure?.message ?? describeCode(status).message;
  const what = input.saveReport ? 'the job report' : 'the job journal';
  try {
    if (input.saveReport) {
      const final = report.finish(status, message, remedyOf(status, failure));
      await input.saveReport(final);
      // Stored: the journal has served. If it cannot be removed, the next listing removes it.
      await journal.remove().catch(() => undefined);
      return { status, failure, final };
    }
    await journal.append({ type: 'end', status, message });
    return { status, failure, final: report.finish(status, message, remedyOf(status, failure)) };
  } catch (err) {
    const fault = stationStorageFailure(what, err) ?? classify(err, 'postcheck');
    const text =
      status === 0
        ? `The device was updated and committed, but ${fault.message}`
        : status === JOB_CODES.stationStorage
          ? `${message} Its report could not be stored either.`
          : `The job failed (${status} ${describeCode(status).name}: ${message}), and ${fault.message}`;
    const full = jobFailure(JOB_CODES.stationStorage, text, fault.detail);
    report.message(full.message);
    // Best effort: a journal end record lets a restart tell this job from an interrupted one.
    if (input.saveReport)
      await journal
        .append({ type: 'end', status: full.code as number, message: full.message })
        .catch(() => undefined);
    return {
      status: JOB_CODES.stationStorage,
      failure: full as Failure,
      final: report.finish(JOB_CODES.stationStorage, full.message),
    };
  }
}

/** What a station disk fault during the stages failed to write: the journal, or some other file of the job. */
export function storedWhat(err: unknown, journalDir: string): string {
  const path = (err as { path?: unknown }).path;
  return typeof path === 'string' && path.startsWith(journalDir) ? 'the job journal' : 'a file of the job';
}
