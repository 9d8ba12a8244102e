/** Events a job emits; the API and CLI forward them as they are. */
import type { ErrorData } from '../common/errors.js';
import type { ProgressEvent } from './progress.js';
import type { JobReport } from './report.js';
import type { Stage } from './stages.js';

export type JobEvent =
  | ({ readonly type: 'progress' } & ProgressEvent)
  | { readonly type: 'stage'; readonly jobId: string; readonly deviceId: string; readonly stage: Stage }
  | { readonly type: 'message'; readonly jobId: string; readonly deviceId: string; readonly text: string }
  | {
      readonly type: 'end';
      readonly jobId: string;
      readonly deviceId: string;
      readonly status: number;
      readonly error?: ErrorData & { readonly remedy: string };
      readonly report: JobReport;
    };
